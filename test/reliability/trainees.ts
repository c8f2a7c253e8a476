// What a trainee looks like in the three systems, read directly (not through the
// service): complete, absent, or partial — the state the product promises never to leave.
import { CoreV1Api, RbacAuthorizationV1Api } from '@kubernetes/client-node';
import { LIMIT_RANGE_NAME, QUOTA_NAME } from '@kup/core';
import { adminKubeConfig, findGrafanaUser, keycloakAdmin, kubeStatus, type KeycloakUserRepresentation } from '../helpers/stack.js';

export interface TraineeState {
  username: string;
  keycloak?: { id: string; email?: string | undefined; provisioned: boolean };
  namespace: boolean;
  roleBinding: boolean;
  quota: boolean;
  limitRange: boolean;
  grafana?: { id: number; email: string };
}

export type Verdict = 'complete' | 'absent' | 'partial';

export function verdictOf(state: TraineeState): Verdict {
  const parts = [state.keycloak !== undefined, state.namespace, state.roleBinding, state.quota, state.limitRange, state.grafana !== undefined];
  if (parts.every(Boolean) && state.keycloak?.provisioned) return 'complete';
  if (parts.every((part) => !part)) return 'absent';
  return 'partial';
}

const exists = async (read: () => Promise<unknown>): Promise<boolean> => {
  try {
    await read();
    return true;
  } catch (error) {
    if (kubeStatus(error) === 404) return false;
    throw error;
  }
};

export async function inspectTrainee(username: string): Promise<TraineeState> {
  const kc = adminKubeConfig();
  const core = kc.makeApiClient(CoreV1Api);
  const rbac = kc.makeApiClient(RbacAuthorizationV1Api);
  const [users, namespace, roleBinding, quota, limitRange, grafana] = await Promise.all([
    keycloakAdmin(`/users?exact=true&briefRepresentation=false&username=${encodeURIComponent(username)}`).then(async (res) => {
      if (!res.ok) throw new Error(`keycloak find ${username}: ${res.status}`);
      return (await res.json()) as KeycloakUserRepresentation[];
    }),
    exists(() => core.readNamespace({ name: username })),
    exists(() => rbac.readNamespacedRoleBinding({ name: username, namespace: username })),
    exists(() => core.readNamespacedResourceQuota({ name: QUOTA_NAME, namespace: username })),
    exists(() => core.readNamespacedLimitRange({ name: LIMIT_RANGE_NAME, namespace: username })),
    findGrafanaUser(username),
  ]);
  const user = users.find((u) => u.username === username);
  return {
    username,
    ...(user ? { keycloak: { id: user.id, email: user.email, provisioned: user.attributes?.provisioned?.[0] === 'true' } } : {}),
    namespace,
    roleBinding,
    quota,
    limitRange,
    ...(grafana ? { grafana: { id: grafana.id, email: grafana.email } } : {}),
  };
}

/** Inspects many trainees, a few at a time (the stack runs on two cores). */
export async function inspectAll(usernames: readonly string[], concurrency = 6): Promise<TraineeState[]> {
  const states: TraineeState[] = new Array(usernames.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < usernames.length) {
        const index = next++;
        states[index] = await inspectTrainee(usernames[index] as string);
      }
    }),
  );
  return states;
}

/** Everything in the three systems whose name starts with `tag` (to find orphans and duplicates). */
export async function everythingTagged(tag: string): Promise<{ keycloak: string[]; namespaces: string[] }> {
  const res = await keycloakAdmin(`/users?search=${encodeURIComponent(tag)}&max=10000&briefRepresentation=true`);
  if (!res.ok) throw new Error(`keycloak search: ${res.status}`);
  const keycloak = ((await res.json()) as KeycloakUserRepresentation[]).map((u) => u.username).filter((name) => name.startsWith(tag));
  const core = adminKubeConfig().makeApiClient(CoreV1Api);
  const list = await core.listNamespace({ labelSelector: 'managed-by=k8s-provisioner' });
  const namespaces = list.items.map((ns) => ns.metadata?.name ?? '').filter((name) => name.startsWith(tag));
  return { keycloak, namespaces };
}

/** Counts of each verdict plus the partial ones by name, for assertion messages. */
export function summarize(states: readonly TraineeState[]): { complete: number; absent: number; partial: string[] } {
  const partial = states.filter((s) => verdictOf(s) === 'partial').map((s) => `${s.username}: ${JSON.stringify(s)}`);
  return {
    complete: states.filter((s) => verdictOf(s) === 'complete').length,
    absent: states.filter((s) => verdictOf(s) === 'absent').length,
    partial,
  };
}
