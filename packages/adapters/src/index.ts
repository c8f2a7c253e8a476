import type { WorkerEnv, ClusterGateway, GrafanaGateway, IdentityProvider } from '@kup/core';
import { GrafanaHttpGateway } from './grafana.adapter.js';
import { KeycloakIdentityProvider } from './keycloak.adapter.js';
import { KubernetesClusterGateway } from './kubernetes.adapter.js';
import { withCallRetries } from './retrying.js';

export { GrafanaHttpGateway } from './grafana.adapter.js';
export type { GrafanaAdapterOptions } from './grafana.adapter.js';
export { KeycloakIdentityProvider } from './keycloak.adapter.js';
export type { KeycloakAdapterOptions } from './keycloak.adapter.js';
export { KubernetesClusterGateway, FIELD_MANAGER } from './kubernetes.adapter.js';
export { CREDENTIALS_REUSE_MS, HTTP1_CONNECTIONS } from './kubernetes-http.js';
export type { KubernetesAdapterOptions } from './kubernetes.adapter.js';
export { withCallRetries, DEFAULT_CALL_RETRY, type RetryPolicy } from './retrying.js';
export { UndiciWebhookTransport, WebhookTransportError, type WebhookTransportOptions } from './webhook.adapter.js';

export interface Adapters {
  identity: IdentityProvider;
  cluster: ClusterGateway;
  grafana: GrafanaGateway;
  /** Closes the HTTP connection pools. */
  close(): Promise<void>;
}

export interface AdapterOptions {
  /**
   * PEM file of a private CA for Keycloak and Grafana (e.g. the local stack's
   * `STACK_CA_FILE`). Not needed when `NODE_EXTRA_CA_CERTS` names it at process start.
   * Kubernetes takes its CA from the kubeconfig.
   */
  caFile?: string | undefined;
}

/**
 * The three upstream adapters, configured from the worker's environment. Idempotent calls
 * retry transient failures a few times on their own (`withCallRetries`); creates do not.
 */
export function createAdapters(config: WorkerEnv, options: AdapterOptions = {}): Adapters {
  const timeoutMs = config.UPSTREAM_TIMEOUT_MS;
  const identity = new KeycloakIdentityProvider({
    baseUrl: config.KEYCLOAK_URL,
    realm: config.KEYCLOAK_REALM,
    clientId: config.KEYCLOAK_CLIENT_ID,
    clientSecret: config.KEYCLOAK_CLIENT_SECRET,
    timeoutMs,
    caFile: options.caFile,
    emailVerified: config.KEYCLOAK_EMAIL_VERIFIED,
  });
  const cluster = new KubernetesClusterGateway({ kubeconfig: config.KUBECONFIG, kubeconfigData: config.KUBE_CONFIG, timeoutMs });
  const grafana = new GrafanaHttpGateway({
    baseUrl: config.GRAFANA_URL,
    adminUser: config.GRAFANA_ADMIN_USER,
    adminPassword: config.GRAFANA_ADMIN_PASSWORD,
    timeoutMs,
    caFile: options.caFile,
  });
  return {
    identity: withCallRetries<IdentityProvider>(identity, ['findUser', 'setPassword', 'setProvisioned', 'setCreatedProvisioned', 'setGrafanaUserId', 'setExpiresAt', 'adopt', 'deleteUser', 'listManaged', 'listManagedNames', 'listUsers', 'countUsers']),
    cluster: withCallRetries<ClusterGateway>(cluster, ['apply', 'get', 'delete', 'getNamespace', 'deleteNamespace', 'deletePods', 'waitForNamespaceGone', 'purgeNamespace', 'takeInventory', 'purgeTypes']),
    grafana: withCallRetries<GrafanaGateway>(grafana, ['findUser', 'getUser', 'setPassword', 'setOrgRole', 'deleteUser']),
    close: async () => {
      await Promise.all([identity.close(), grafana.close(), cluster.close()]);
    },
  };
}
