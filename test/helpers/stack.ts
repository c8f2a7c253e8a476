// The local stack as tests see it: its env (put in process.env by the integration
// globalSetup), HTTP that trusts the stack CA, admin clients, polling with deadlines.
import { readFileSync } from 'node:fs';
import { KubeConfig, CoreV1Api, RbacAuthorizationV1Api, PatchStrategy, setHeaderOptions, type V1ClusterRole } from '@kubernetes/client-node';
import { parse } from 'yaml';
import { Agent, fetch, type RequestInit, type Response } from 'undici';
import { loadWorkerConfig, type WorkerEnv } from '@kup/core';

export function stackEnv(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set (the integration globalSetup provides the stack env)`);
  return value;
}

/** The worker's config against the stack, with a queue prefix (and anything else) of the test's own. */
export function workerConfig(overrides: Record<string, string> = {}): WorkerEnv {
  return loadWorkerConfig({ ...process.env, LOG_LEVEL: 'info', ...overrides });
}

let agent: Agent | undefined;
/** fetch that trusts the stack's CA (NODE_EXTRA_CA_CERTS is read only at process start). */
export function stackFetch(url: string, init: RequestInit = {}): Promise<Response> {
  agent ??= new Agent({ connect: { ca: readFileSync(stackEnv('STACK_CA_FILE'), 'utf8') } });
  return fetch(url, { ...init, dispatcher: agent, signal: init.signal ?? AbortSignal.timeout(30_000) });
}

export { eventually } from './poll.js';

export function adminKubeConfig(): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(stackEnv('KUBECONFIG'));
  return kc;
}

/** The HTTP status of a failed @kubernetes/client-node call. */
export const kubeStatus = (error: unknown): number | undefined => (error as { code?: number }).code;

/**
 * The trainees' ClusterRole. It lives outside the app (the old service's cluster had it);
 * the stack does not create it, so tests apply it. Read-write on the usual namespaced
 * resources, nothing on resourcequotas (a trainee cannot raise their own quota).
 */
/** The shipped trainee ClusterRole (`k8s/components/trainee-clusterrole`), the one RoleBindings point at: tests use it as it ships. */
export const TRAINEE_CLUSTER_ROLE_FILE = new URL('../../k8s/components/trainee-clusterrole/trainee-clusterrole.yaml', import.meta.url);

export async function ensureTraineeClusterRole(): Promise<void> {
  const role = parse(readFileSync(TRAINEE_CLUSTER_ROLE_FILE, 'utf8')) as V1ClusterRole & { metadata: { name: string } };
  const rbac = adminKubeConfig().makeApiClient(RbacAuthorizationV1Api);
  await rbac.patchClusterRole(
    { name: role.metadata.name, body: role, fieldManager: 'k8s-provisioner-tests', force: true },
    setHeaderOptions('Content-Type', PatchStrategy.ServerSideApply),
  );
}

/** Keycloak admin REST with the provisioner's client-credentials token. */
export async function keycloakAdmin(path: string, init: { method?: string; json?: unknown } = {}): Promise<Response> {
  const base = stackEnv('KEYCLOAK_URL').replace(/\/+$/, '');
  const realm = stackEnv('KEYCLOAK_REALM');
  const tokenResponse = await stackFetch(`${base}/realms/${realm}/protocol/openid-connect/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'client_credentials', client_id: stackEnv('KEYCLOAK_CLIENT_ID'), client_secret: stackEnv('KEYCLOAK_CLIENT_SECRET') }).toString(),
  });
  if (!tokenResponse.ok) throw new Error(`client credentials: ${tokenResponse.status}`);
  const { access_token: token } = (await tokenResponse.json()) as { access_token: string };
  return stackFetch(`${base}/admin/realms/${realm}${path}`, {
    method: init.method ?? 'GET',
    headers: { authorization: `Bearer ${token}`, ...(init.json === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(init.json === undefined ? {} : { body: JSON.stringify(init.json) }),
  });
}

export interface KeycloakUserRepresentation {
  id: string;
  username: string;
  email?: string;
  enabled: boolean;
  attributes?: Record<string, string[]>;
}

export async function findKeycloakUser(username: string): Promise<KeycloakUserRepresentation | undefined> {
  const response = await keycloakAdmin(`/users?exact=true&briefRepresentation=false&username=${encodeURIComponent(username)}`);
  if (!response.ok) throw new Error(`find user: ${response.status}`);
  return ((await response.json()) as KeycloakUserRepresentation[]).find((u) => u.username === username);
}

/** Creates a Keycloak user directly (a "human" account, or someone else's); returns its id. */
export async function createKeycloakUser(user: { username: string; email?: string; password?: string; attributes?: Record<string, string[]> }): Promise<string> {
  const response = await keycloakAdmin('/users', {
    method: 'POST',
    json: {
      username: user.username,
      email: user.email,
      enabled: true,
      emailVerified: true,
      firstName: 'Test',
      lastName: 'User',
      ...(user.attributes ? { attributes: user.attributes } : {}),
      ...(user.password ? { credentials: [{ type: 'password', value: user.password, temporary: false }] } : {}),
    },
  });
  if (response.status !== 201) throw new Error(`create user: ${response.status} ${await response.text()}`);
  return String(response.headers.get('location')).split('/').pop() as string;
}

export async function deleteKeycloakUser(id: string): Promise<void> {
  await keycloakAdmin(`/users/${id}`, { method: 'DELETE' });
}

/** Grafana's admin API with the stack's admin basic auth. */
export async function grafanaAdmin(path: string, init: { method?: string; json?: unknown } = {}): Promise<Response> {
  const auth = Buffer.from(`${stackEnv('GRAFANA_ADMIN_USER')}:${stackEnv('GRAFANA_ADMIN_PASSWORD')}`).toString('base64');
  return stackFetch(`${stackEnv('GRAFANA_URL').replace(/\/+$/, '')}${path}`, {
    method: init.method ?? 'GET',
    headers: { authorization: `Basic ${auth}`, ...(init.json === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(init.json === undefined ? {} : { body: JSON.stringify(init.json) }),
  });
}

export async function findGrafanaUser(loginOrEmail: string): Promise<{ id: number; login: string; email: string } | undefined> {
  const response = await grafanaAdmin(`/api/users/lookup?loginOrEmail=${encodeURIComponent(loginOrEmail)}`);
  if (response.status === 404) return undefined;
  if (!response.ok) throw new Error(`grafana lookup: ${response.status}`);
  return (await response.json()) as { id: number; login: string; email: string };
}

export async function getNamespace(name: string) {
  const core = adminKubeConfig().makeApiClient(CoreV1Api);
  try {
    return await core.readNamespace({ name });
  } catch (error) {
    if (kubeStatus(error) === 404) return undefined;
    throw error;
  }
}
