import type { ClusterGateway, NamespaceInfo } from '../ports/cluster-gateway.js';
import type { GrafanaGateway, GrafanaUser } from '../ports/grafana-gateway.js';
import type { IdentityProvider, IdentityUser } from '../ports/identity-provider.js';
import type { DeleteJobData, DeleteJobResult } from '../queue/contract.js';
import { runSteps, type RunFlags, type Step } from '../saga/runner.js';
import { sameEmail } from '../domain/identity.js';
import { ANNOTATIONS } from '../domain/trainee-plan.js';
import { UsernameConflictError } from '../errors.js';
import { NamespaceConflictError, UnmanagedUserError, defaultGuards, isManagedNamespace, type IdentityGuards } from './ownership.js';
import type { DeleteState, StepContext } from './step-context.js';
import { isOurGrafanaAccount, leftAccountRecord, type GrafanaRecord, type LeftGrafanaAccountStore } from './steps/grafana-account.js';

export interface DeleteDeps {
  identity: IdentityProvider;
  cluster: ClusterGateway;
  grafana: GrafanaGateway;
  namespaceDeleteTimeoutMs: number;
  /** Grafana's denied logins (default: `defaultGuards()`). */
  guards?: IdentityGuards;
  /**
   * The Grafana accounts failed creates left, by username (grafana-account.ts): the account
   * of a half-made user is ours by that record too, and the record goes with the user.
   */
  leftAccounts?: LeftGrafanaAccountStore;
}

export interface DeleteOptions {
  /**
   * A Grafana account the calling run made itself (sync rolling back its own half-made user),
   * or its failed create did: ours too. Unset: the record a failed create left by username.
   */
  madeByCaller?: GrafanaRecord | undefined;
  /** A namespace of that name the provisioner does not manage: refused (a delete), or left alone (a rollback). */
  foreignNamespace?: 'refuse' | 'leave';
}

interface DeleteRun extends RunFlags {
  deps: DeleteDeps & { guards: IdentityGuards };
  input: DeleteJobData;
  options: DeleteOptions;
  ctx: StepContext<DeleteState>;
  username?: string;
  user?: IdentityUser | undefined;
  namespace?: NamespaceInfo | undefined;
  grafanaUser?: GrafanaUser | undefined;
  removed: { namespace: boolean; keycloak: boolean; grafana: boolean };
  result?: DeleteJobResult;
}

async function mark(run: DeleteRun, part: keyof DeleteRun['removed'], done: boolean): Promise<void> {
  if (!done || run.removed[part]) return;
  run.removed[part] = true;
  await run.ctx.state.patch({ removed: { ...run.removed } });
}

/**
 * Chooses the target: the first candidate username with a Keycloak user or a namespace,
 * recorded in the job's state with the Grafana account that is ours, so that a retry
 * finishes the same target (even once the Keycloak user is gone), never a user made again
 * under the name since (another id). Refuses, before touching anything, a human account or
 * a namespace the provisioner never made, and a trainee of another email than the caller
 * named (two emails can give one username: create refuses the second, so must delete).
 */
const inspectTarget: Step<DeleteRun> = {
  name: 'inspect',
  async ensure(run) {
    const { deps, input, ctx } = run;
    const chosen = ctx.state.get().target;
    const candidates = chosen ? [chosen.username] : input.usernames;
    const someoneElse: string[] = [];
    for (const username of candidates) {
      const [user, namespace, grafanaUser] = await Promise.all([
        deps.identity.findUser(username, ctx.signal),
        deps.cluster.getNamespace(username, ctx.signal),
        deps.grafana.findUser(username, ctx.signal).then((g) => (g?.login === username ? g : undefined)),
      ]);
      // A user of another id than the one chosen was made since (a create during the backoff):
      // that trainee, its namespace and Grafana account are not this delete's. Nothing is left of ours.
      if (chosen?.userId && user && user.id !== chosen.userId) {
        ctx.log.warn({ username, userId: user.id, chosenUserId: chosen.userId }, 'user made again since the first attempt: left alone');
        break;
      }
      if (!chosen && (user || namespace) && !sameCaller(input.email, user, namespace)) {
        ctx.log.warn({ username }, 'the trainee under this username has another email: left alone');
        someoneElse.push(username);
        continue;
      }
      // A Grafana login alone is no target: without a Keycloak user nothing says it is ours.
      if (user || namespace || (chosen && grafanaUser)) {
        Object.assign(run, { username, user, namespace, grafanaUser });
        break;
      }
    }
    const previous = ctx.state.get();
    if (run.username === undefined && someoneElse[0] !== undefined) throw new UsernameConflictError(someoneElse[0]);
    if (run.username === undefined) {
      const target = previous.target;
      ctx.log.info({ candidates }, target ? 'nothing left to delete' : 'no such user: nothing to delete');
      run.result = { username: target?.username ?? (input.usernames[0] as string), userId: target?.userId ?? null, found: target !== undefined, removed: run.removed };
      run.stopped = true;
      return;
    }
    const { username, user, grafanaUser } = run;
    if (user && !user.managed) throw new UnmanagedUserError(username);
    if (run.namespace && !isManagedNamespace(run.namespace)) {
      if (run.options.foreignNamespace !== 'leave') throw new NamespaceConflictError(username);
      run.namespace = undefined;
    }
    if (!previous.target) {
      const made = grafanaUser && user ? (run.options.madeByCaller ?? leftAccountRecord(await deps.leftAccounts?.get(username), user)) : undefined;
      const ours = grafanaUser && user && isOurGrafanaAccount(grafanaUser, user, made ?? {}, deps.guards) ? grafanaUser.id : null;
      if (grafanaUser && ours === null) ctx.log.warn({ grafanaUserId: grafanaUser.id }, 'grafana login is not recorded as ours: left alone');
      await ctx.state.patch({ target: { username, userId: user?.id ?? null, grafanaUserId: ours } });
    }
  },
};

/**
 * Whether the trainee found is the one the caller named: same email, by Keycloak's record (or,
 * with the user gone, the namespace's). No email on either side is no contradiction: the old
 * service's trainees made from a full name alone hold none, and internal deletes name none.
 */
function sameCaller(email: string | undefined, user: IdentityUser | undefined, namespace: NamespaceInfo | undefined): boolean {
  if (email === undefined) return true;
  const held = user ? user.email : namespace?.annotations[ANNOTATIONS.email];
  return held === undefined || held === '' || sameEmail(held, email);
}

/** The namespace, waiting until it is gone. */
const removeNamespace: Step<DeleteRun> = {
  name: 'namespace',
  async ensure(run) {
    const { deps, ctx, username } = run;
    if (!run.namespace || username === undefined) return;
    await mark(run, 'namespace', await deps.cluster.deleteNamespace(username, ctx.signal));
    await deps.cluster.waitForNamespaceGone(username, deps.namespaceDeleteTimeoutMs, ctx.signal);
  },
};

const removeKeycloakUser: Step<DeleteRun> = {
  name: 'keycloak-user',
  async ensure(run) {
    if (run.user) await mark(run, 'keycloak', await run.deps.identity.deleteUser(run.user.id, run.ctx.signal));
  },
};

/** Only the account recorded at inspect, and only while the login still leads to it. */
const removeGrafanaUser: Step<DeleteRun> = {
  name: 'grafana-user',
  async ensure(run) {
    const { grafanaUser } = run;
    const ours = run.ctx.state.get().target?.grafanaUserId ?? null;
    if (grafanaUser && ours !== null && grafanaUser.id === ours && !grafanaUser.isGrafanaAdmin) {
      await mark(run, 'grafana', await run.deps.grafana.deleteUser(grafanaUser.id, run.ctx.signal));
    }
  },
};

/** A delete, step by step; progress reports use these names. */
export const DELETE_PLAYGROUND: readonly Step<DeleteRun>[] = [inspectTarget, removeNamespace, removeKeycloakUser, removeGrafanaUser];
export const DELETE_STEPS = ['inspect', 'namespace', 'keycloak-user', 'grafana-user'] as const;
export type DeleteStep = (typeof DELETE_STEPS)[number];

/**
 * Removes a trainee's playground: namespace (waiting until it is gone), Keycloak user,
 * Grafana user. Nothing without the provisioner's mark is deleted, a Grafana account only
 * when the Keycloak user records it as ours (ownership.ts: never on a login match alone,
 * never a denied login), and "not found" counts as done everywhere. Used by DELETE, by
 * cleanup, and by sync to roll back a half-made user.
 */
export async function deletePlayground(deps: DeleteDeps, input: DeleteJobData, ctx: StepContext<DeleteState>, options: DeleteOptions = {}): Promise<DeleteJobResult> {
  const removed = { namespace: false, keycloak: false, grafana: false, ...ctx.state.get().removed };
  const run: DeleteRun = { deps: { ...deps, guards: deps.guards ?? defaultGuards() }, input, options, ctx, removed };
  if ((await runSteps(DELETE_PLAYGROUND, run, ctx.progress)) === 'stopped') return run.result as DeleteJobResult;
  const username = run.username as string;
  const userId = run.user?.id ?? ctx.state.get().target?.userId ?? null;
  // The user is gone, and with it all a failed create's record of theirs could speak for.
  const left = await run.deps.leftAccounts?.get(username);
  if (left !== undefined && left.userId === userId) await run.deps.leftAccounts?.clear(username);
  ctx.log.info({ removed: run.removed, userId }, 'playground deleted');
  return { username, userId, found: true, removed: run.removed };
}
