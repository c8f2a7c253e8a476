import type { ClusterGateway, NamespaceInfo } from '../ports/cluster-gateway.js';
import type { GrafanaGateway, GrafanaUser } from '../ports/grafana-gateway.js';
import type { IdentityProvider, IdentityUser } from '../ports/identity-provider.js';
import type { DeleteJobData, DeleteJobResult } from '../queue/contract.js';
import { NamespaceConflictError, UnmanagedUserError, defaultGuards, isManagedNamespace, ownsGrafanaAccount, type IdentityGuards } from './ownership.js';
import type { DeleteState, StepContext } from './step-context.js';

export const DELETE_STEPS = ['inspect', 'namespace', 'keycloak-user', 'grafana-user'] as const;
export type DeleteStep = (typeof DELETE_STEPS)[number];

export interface DeleteDeps {
  identity: IdentityProvider;
  cluster: ClusterGateway;
  grafana: GrafanaGateway;
  namespaceDeleteTimeoutMs: number;
  /** Grafana's denied logins (default: `defaultGuards()`). */
  guards?: IdentityGuards;
}

interface Found {
  username: string;
  user: IdentityUser | undefined;
  namespace: NamespaceInfo | undefined;
  grafanaUser: GrafanaUser | undefined;
}

/**
 * Removes a trainee's playground: namespace (waiting until it is gone), Keycloak user,
 * Grafana user. The target is the first candidate username with a Keycloak user or a
 * namespace; it is recorded in the job's state, with the Grafana account that is ours,
 * so that a retry finishes the same target (even once the Keycloak user is gone). Nothing
 * without the provisioner's mark is deleted, a Grafana account only when the Keycloak user
 * records it as ours (ownership.ts: never on a login match alone, never a denied login),
 * and "not found" counts as done everywhere.
 */
export async function deletePlayground(deps: DeleteDeps, input: DeleteJobData, ctx: StepContext<DeleteState>): Promise<DeleteJobResult> {
  const { identity, cluster, grafana } = deps;
  const { signal, log } = ctx;
  const step = (name: DeleteStep) => ctx.progress(name, DELETE_STEPS.indexOf(name), DELETE_STEPS.length);

  await step('inspect');
  const chosen = ctx.state.get().target;
  const candidates = chosen ? [chosen.username] : input.usernames;
  let found: Found | undefined;
  for (const username of candidates) {
    const [user, namespace, grafanaUser] = await Promise.all([
      identity.findUser(username, signal),
      cluster.getNamespace(username, signal),
      grafana.findUser(username, signal).then((g) => (g?.login === username ? g : undefined)),
    ]);
    // A Grafana login alone is no target: without a Keycloak user nothing says it is ours.
    if (user || namespace || (chosen && grafanaUser)) {
      found = { username, user, namespace, grafanaUser };
      break;
    }
  }
  const previous = ctx.state.get();
  if (!found) {
    const target = previous.target;
    const removed = { namespace: false, keycloak: false, grafana: false, ...previous.removed };
    log.info({ candidates }, target ? 'nothing left to delete' : 'no such user: nothing to delete');
    return { username: target?.username ?? (input.usernames[0] as string), userId: target?.userId ?? null, found: target !== undefined, removed };
  }

  const { username, user, namespace, grafanaUser } = found;
  // Refuse before touching anything: a human account or a system namespace is never ours.
  if (user && !user.managed) throw new UnmanagedUserError(username);
  if (namespace && !isManagedNamespace(namespace)) throw new NamespaceConflictError(username);
  const userId = user?.id ?? previous.target?.userId ?? null;
  const guards = deps.guards ?? defaultGuards();
  if (!previous.target) {
    const ours = grafanaUser && user && ownsGrafanaAccount(grafanaUser, user, guards) ? grafanaUser.id : null;
    if (grafanaUser && ours === null) log.warn({ grafanaUserId: grafanaUser.id }, 'grafana login is not recorded as ours: left alone');
    await ctx.state.patch({ target: { username, userId, grafanaUserId: ours } });
  }
  const ourGrafanaId = ctx.state.get().target?.grafanaUserId ?? null;
  const removed = { namespace: false, keycloak: false, grafana: false, ...previous.removed };
  const mark = async (part: keyof typeof removed, done: boolean) => {
    if (!done || removed[part]) return;
    removed[part] = true;
    await ctx.state.patch({ removed: { ...removed } });
  };

  await step('namespace');
  if (namespace) {
    await mark('namespace', await cluster.deleteNamespace(username, signal));
    await cluster.waitForNamespaceGone(username, deps.namespaceDeleteTimeoutMs, signal);
  }

  await step('keycloak-user');
  if (user) await mark('keycloak', await identity.deleteUser(user.id, signal));

  await step('grafana-user');
  // Only the account recorded at inspect, and only while the login still leads to it.
  if (grafanaUser && ourGrafanaId !== null && grafanaUser.id === ourGrafanaId && !grafanaUser.isGrafanaAdmin) {
    await mark('grafana', await grafana.deleteUser(grafanaUser.id, signal));
  }
  log.info({ removed, userId }, 'playground deleted');
  return { username, userId, found: true, removed };
}
