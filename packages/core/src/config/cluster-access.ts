import { readFileSync } from 'node:fs';
import { z } from 'zod';

/**
 * What a trainee needs to reach the cluster and the tools: the apiserver's public address
 * and CA, the OIDC issuer and public client their kubeconfig logs in with, and the public
 * addresses a welcome message names. Read by the API and the worker (both may render a
 * kubeconfig or a welcome); merged into `commonEnv` in env.ts.
 */

const url = z.url({ protocol: /^https?$/ });

// A certificate block whose body is base64 only: a block wrapping anything else is no certificate.
const PEM_CERTIFICATES = /-----BEGIN CERTIFICATE-----[A-Za-z0-9+/=\s]+?-----END CERTIFICATE-----/g;

/** The certificate blocks of a PEM text, as base64 of those blocks alone; undefined if there is none. */
function certificatesOnly(pem: string): string | undefined {
  // Only the certificates go on: the text may be a bundle with the private key (as many tools write),
  // and what this returns is copied into every trainee's kubeconfig.
  const blocks = pem.match(PEM_CERTIFICATES);
  return blocks ? Buffer.from(`${blocks.join('\n')}\n`).toString('base64') : undefined;
}

/** A PEM bundle, or its base64 (the kubeconfig's `certificate-authority-data`), as the base64 of its certificates alone; undefined if it holds none. */
export function caDataFrom(value: string): string | undefined {
  const text = value.trim();
  if (text.includes('-----BEGIN ')) return certificatesOnly(text);
  if (!/^[A-Za-z0-9+/\s]+=*\s*$/.test(text)) return undefined;
  return certificatesOnly(Buffer.from(text.replace(/\s+/g, ''), 'base64').toString('utf8'));
}

export const clusterAccessEnvShape = {
  /** The apiserver as trainees reach it (`https://k8s.example.com:6443`). Unset: no kubeconfig is handed out. */
  CLUSTER_SERVER_URL: url.optional(),
  /** The apiserver's CA: a PEM file … */
  CLUSTER_CA_FILE: z.string().min(1).optional(),
  /** … or the PEM itself, plain or base64 (as in a kubeconfig's certificate-authority-data). */
  CLUSTER_CA_DATA: z
    .string()
    .refine((value) => caDataFrom(value) !== undefined, 'must be a PEM certificate, plain or base64-encoded')
    .optional(),
  /** The exec credential plugin kubeconfigs use: our `provisioner credential`, or kubelogin (`kubectl oidc-login`). */
  KUBECONFIG_CREDENTIAL_PLUGIN: z.enum(['provisioner', 'kubelogin']).default('provisioner'),
  /** The issuer as the apiserver knows it (`--oidc-issuer-url`); the worker defaults it to `${KEYCLOAK_URL}/realms/${KEYCLOAK_REALM}`. */
  OIDC_ISSUER_URL: url.optional(),
  /** The public Keycloak client trainees log in with: the apiserver's `--oidc-client-id`, which the token's audience must name. */
  KEYCLOAK_LOGIN_CLIENT_ID: z.string().min(1).default('kubernetes'),
  /** Grafana as trainees open it in a browser (welcome messages); GRAFANA_URL is the worker's own way in. */
  GRAFANA_PUBLIC_URL: url.optional(),
  /** This API as trainers reach it (welcome messages name the kubeconfig route under it). */
  API_PUBLIC_URL: url.optional(),
};

const clusterAccessEnv = z.object(clusterAccessEnvShape);
export type ClusterAccessEnv = z.infer<typeof clusterAccessEnv>;

/** The parsed env of either app: the worker also knows Keycloak, which gives the default issuer. */
export type ClusterAccessConfig = ClusterAccessEnv & { KEYCLOAK_URL?: string; KEYCLOAK_REALM?: string };

/** OIDC_ISSUER_URL, else (worker) the Keycloak realm's issuer; undefined when neither is known (the API without OIDC_ISSUER_URL). */
export function clusterIssuer(config: ClusterAccessConfig): string | undefined {
  if (config.OIDC_ISSUER_URL) return config.OIDC_ISSUER_URL;
  if (config.KEYCLOAK_URL && config.KEYCLOAK_REALM) return `${config.KEYCLOAK_URL.replace(/\/+$/, '')}/realms/${config.KEYCLOAK_REALM}`;
  return undefined;
}

/** Reads CLUSTER_CA_FILE or CLUSTER_CA_DATA as base64 PEM; '' when neither is set (the apiserver's certificate is publicly trusted). */
export function clusterCaData(config: Pick<ClusterAccessEnv, 'CLUSTER_CA_FILE' | 'CLUSTER_CA_DATA'>): string {
  if (config.CLUSTER_CA_DATA) return caDataFrom(config.CLUSTER_CA_DATA) ?? '';
  if (!config.CLUSTER_CA_FILE) return '';
  const data = caDataFrom(readFileSync(config.CLUSTER_CA_FILE, 'utf8'));
  if (data === undefined) throw new Error('CLUSTER_CA_FILE: holds no PEM certificate');
  return data;
}

/** Checks across the keys, at boot: one CA source, a readable CA file, an issuer when a server is set. */
export function clusterAccessIssues(config: ClusterAccessConfig): string[] {
  const issues: string[] = [];
  if (config.CLUSTER_CA_FILE && config.CLUSTER_CA_DATA) issues.push('CLUSTER_CA_FILE: set either CLUSTER_CA_FILE or CLUSTER_CA_DATA, not both');
  else if (config.CLUSTER_CA_FILE) {
    try {
      clusterCaData(config);
    } catch (error) {
      const reason = (error as NodeJS.ErrnoException).code ?? 'holds no PEM certificate';
      issues.push(`CLUSTER_CA_FILE: cannot be read as a PEM certificate (${reason})`);
    }
  }
  if (config.CLUSTER_SERVER_URL && clusterIssuer(config) === undefined) {
    issues.push('OIDC_ISSUER_URL: required with CLUSTER_SERVER_URL here (kubeconfigs name the issuer, and this app does not know KEYCLOAK_URL)');
  }
  return issues;
}
