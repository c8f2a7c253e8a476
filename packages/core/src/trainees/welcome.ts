import type { ClusterAccessConfig } from '../config/cluster-access.js';
import { kubeconfigSettingsFrom, renderKubeconfig, type CredentialPlugin, type KubeconfigSettings } from './kubeconfig.js';

/**
 * What a trainer hands a trainee: where to log in, how to install the kubeconfig, until
 * when. Never the password: the trainer passes that on separately, once.
 */

export interface WelcomeSettings {
  /** Grafana as trainees open it (GRAFANA_PUBLIC_URL). */
  grafanaUrl?: string;
  /** This API as trainers reach it (API_PUBLIC_URL): the welcome names the kubeconfig route under it. */
  apiUrl?: string;
  /** Undefined when no kubeconfig is handed out (CLUSTER_SERVER_URL unset). */
  kubeconfig?: KubeconfigSettings;
}

export interface WelcomeTrainee {
  username: string;
  namespace: string;
  /** ISO 8601, or null for no expiry. */
  expiresAt: string | null;
  email?: string | null;
}

export interface Welcome {
  username: string;
  email: string | null;
  namespace: string;
  expiresAt: string | null;
  grafanaUrl: string | null;
  /** Present when the cluster is configured (CLUSTER_SERVER_URL). */
  cluster: {
    serverUrl: string;
    issuerUrl: string;
    clientId: string;
    plugin: CredentialPlugin;
    /** The kubeconfig itself (YAML, no secret in it). */
    kubeconfig: string;
    /** Where a trainer downloads it again, when API_PUBLIC_URL is set. */
    kubeconfigUrl: string | null;
  } | null;
  /** The steps to follow, in order, as plain sentences. */
  steps: string[];
}

export function welcomeSettingsFrom(env: ClusterAccessConfig): WelcomeSettings {
  const kubeconfig = kubeconfigSettingsFrom(env);
  return {
    ...(env.GRAFANA_PUBLIC_URL ? { grafanaUrl: env.GRAFANA_PUBLIC_URL } : {}),
    ...(env.API_PUBLIC_URL ? { apiUrl: env.API_PUBLIC_URL } : {}),
    ...(kubeconfig ? { kubeconfig } : {}),
  };
}

const trimSlash = (url: string): string => url.replace(/\/+$/, '');

function pluginSteps(plugin: CredentialPlugin): string[] {
  if (plugin === 'kubelogin') {
    return [
      'Install kubectl (https://kubernetes.io/docs/tasks/tools/) and kubelogin: `kubectl krew install oidc-login`.',
      'The first kubectl command opens your browser at the login page: sign in with your username and password.',
    ];
  }
  return [
    'Install kubectl (https://kubernetes.io/docs/tasks/tools/) and the `provisioner` command (docs/kubeconfig.md).',
    'The first kubectl command prints a link and a code on your terminal: open the link, type the code, sign in with your username and password. Scripts may set PROVISIONER_PASSWORD instead.',
  ];
}

function steps(t: WelcomeTrainee, grafanaUrl: string | null, plugin: CredentialPlugin | undefined): string[] {
  const out: string[] = [];
  if (plugin) {
    out.push(...pluginSteps(plugin));
    out.push(
      `Save the kubeconfig below as ~/.kube/config (or elsewhere, with export KUBECONFIG=<file>).`,
      `Try it: \`kubectl get pods\` works in your namespace ${t.namespace}, which is your default.`,
    );
  }
  if (grafanaUrl) out.push(`Open Grafana at ${grafanaUrl} and sign in as ${t.username} with the same password.`);
  out.push(t.expiresAt ? `Your playground and accounts are removed on ${t.expiresAt}.` : 'Your playground has no expiry date.');
  return out;
}

export function buildWelcome(s: WelcomeSettings, t: WelcomeTrainee): { json: Welcome; text: string } {
  const grafanaUrl = s.grafanaUrl ?? null;
  const k = s.kubeconfig;
  const json: Welcome = {
    username: t.username,
    email: t.email ?? null,
    namespace: t.namespace,
    expiresAt: t.expiresAt,
    grafanaUrl,
    cluster: k
      ? {
          serverUrl: k.serverUrl,
          issuerUrl: k.issuerUrl,
          clientId: k.clientId,
          plugin: k.plugin,
          kubeconfig: renderKubeconfig(k, t),
          kubeconfigUrl: s.apiUrl ? `${trimSlash(s.apiUrl)}/trainees/${encodeURIComponent(t.username)}/kubeconfig` : null,
        }
      : null,
    steps: steps(t, grafanaUrl, k?.plugin),
  };
  return { json, text: welcomeText(json) };
}

function welcomeText(w: Welcome): string {
  const lines = [
    `Welcome, ${w.username}!`,
    '',
    `Username:  ${w.username}`,
    ...(w.email ? [`Email:     ${w.email}`] : []),
    `Namespace: ${w.namespace}`,
    ...(w.cluster ? [`Cluster:   ${w.cluster.serverUrl}`] : []),
    ...(w.grafanaUrl ? [`Grafana:   ${w.grafanaUrl}`] : []),
    `Expires:   ${w.expiresAt ?? 'never'}`,
    'Password:  given to you separately',
    '',
    ...w.steps.map((step, i) => `${i + 1}. ${step}`),
  ];
  if (w.cluster) lines.push('', '--- kubeconfig ---', w.cluster.kubeconfig.trimEnd(), '--- end ---');
  return `${lines.join('\n')}\n`;
}
