import { stringify } from 'yaml';
import { clusterCaData, clusterIssuer, type ClusterAccessConfig } from '../config/cluster-access.js';

/**
 * A trainee's kubeconfig: the cluster's public address and CA, their namespace as the
 * context's default, and an exec credential plugin that logs them in through OIDC. It holds
 * no secret: the plugin asks for the password (or a device code) on the trainee's machine.
 */

export type CredentialPlugin = 'provisioner' | 'kubelogin';

export interface KubeconfigSettings {
  serverUrl: string;
  /** base64 PEM, as `certificate-authority-data`; '' when the apiserver's certificate is publicly trusted. */
  caData: string;
  issuerUrl: string;
  /** The public client, whose id the apiserver expects as the token's audience (`--oidc-client-id`). */
  clientId: string;
  plugin: CredentialPlugin;
}

export interface KubeconfigTrainee {
  username: string;
  namespace: string;
}

/** The exec plugins' protocol version; kubectl 1.24+ speaks it. */
export const EXEC_CREDENTIAL_API_VERSION = 'client.authentication.k8s.io/v1';

/**
 * The settings from the parsed env (API or worker); undefined when CLUSTER_SERVER_URL is
 * unset or the issuer is unknown: no kubeconfig is handed out, the route says it is not
 * configured. Reads CLUSTER_CA_FILE on each call, so a rotated CA is picked up.
 */
export function kubeconfigSettingsFrom(env: ClusterAccessConfig): KubeconfigSettings | undefined {
  const issuerUrl = clusterIssuer(env);
  if (!env.CLUSTER_SERVER_URL || !issuerUrl) return undefined;
  return {
    serverUrl: env.CLUSTER_SERVER_URL,
    caData: clusterCaData(env),
    issuerUrl,
    clientId: env.KEYCLOAK_LOGIN_CLIENT_ID,
    plugin: env.KUBECONFIG_CREDENTIAL_PLUGIN,
  };
}

/** A name for the cluster entry: the server's host, e.g. `k8s-example-com`. */
export function clusterName(serverUrl: string): string {
  const host = new URL(serverUrl).hostname.replace(/^\[|\]$/g, '');
  return host.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '') || 'cluster';
}

/** The `exec` stanza of the user entry, for either plugin. */
export function execCredential(s: KubeconfigSettings, username: string): Record<string, unknown> {
  const common = { apiVersion: EXEC_CREDENTIAL_API_VERSION, interactiveMode: 'IfAvailable', provideClusterInfo: false };
  if (s.plugin === 'kubelogin') {
    return {
      ...common,
      command: 'kubectl',
      // kubelogin's documented flags; it opens a browser (standard flow, redirect to localhost:8000 or :18000).
      args: ['oidc-login', 'get-token', `--oidc-issuer-url=${s.issuerUrl}`, `--oidc-client-id=${s.clientId}`],
      installHint: 'kubelogin is needed: install it with `kubectl krew install oidc-login` (or see https://github.com/int128/kubelogin).',
    };
  }
  return {
    ...common,
    command: 'provisioner',
    args: ['credential', '--issuer', s.issuerUrl, '--client-id', s.clientId, '--username', username],
    installHint: 'The provisioner CLI is needed on PATH: see docs/kubeconfig.md of k8s-user-provisioner.',
  };
}

/** The kubeconfig as YAML text. */
export function renderKubeconfig(s: KubeconfigSettings, t: KubeconfigTrainee): string {
  const cluster = clusterName(s.serverUrl);
  const context = `${t.username}@${cluster}`;
  const config = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [
      {
        name: cluster,
        cluster: { server: s.serverUrl, ...(s.caData ? { 'certificate-authority-data': s.caData } : {}) },
      },
    ],
    users: [{ name: t.username, user: { exec: execCredential(s, t.username) } }],
    contexts: [{ name: context, context: { cluster, user: t.username, namespace: t.namespace } }],
    'current-context': context,
    preferences: {},
  };
  return stringify(config, { lineWidth: 0 });
}
