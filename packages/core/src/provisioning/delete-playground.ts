import type { ClusterGateway, NamespaceInfo } from '../ports/cluster-gateway.js';
import type { GrafanaGateway, GrafanaUser } from '../ports/grafana-gateway.js';
import type { IdentityProvider, IdentityUser } from '../ports/identity-provider.js';
import type { DeleteJobData, DeleteJobResult } from '../queue/contract.js';
import { runSteps, type RunFlags, type Step } from '../saga/runner.js';
import { sameEmail } from '../domain/identity.js';
import { ANNOTATIONS } from '../domain/trainee-plan.js';
import { UsernameConflictError } from '../errors.js';
import { NamespaceConflictError, UnmanagedUserError, defaultGuards, isDeniedGrafanaUser, isManagedNamespace, type IdentityGuards } from './ownership.js';
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
  /** The account came from the recorded id, not from the login (renamed by its trainee). */
  grafanaById?: boolean;
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
      const [user, namespace, byLogin] = await Promise.all([
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
      const grafanaUser = await withRecordedAccount(deps.grafana, byLogin, recordedGrafanaId(chosen, user), ctx.signal);
      // A Grafana login alone is no target: without a Keycloak user nothing says it is ours.
      if (user || namespace || (chosen && grafanaUser)) {
        Object.assign(run, { username, user, namespace, grafanaUser, grafanaById: grafanaUser !== byLogin });
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
      const ours = grafanaUser && user && (run.grafanaById ? isRecordedAccount(grafanaUser, user, deps.guards) : isOurGrafanaAccount(grafanaUser, user, made ?? {}, deps.guards)) ? grafanaUser.id : null;
      if (run.grafanaById && ours !== null) ctx.log.info({ grafanaUserId: ours }, 'grafana login renamed since it was made: found by the recorded id');
      if (grafanaUser && ours === null) ctx.log.warn({ grafanaUserId: grafanaUser.id }, 'grafana login is not recorded as ours: left alone');
      await ctx.state.patch({ target: { username, userId: user?.id ?? null, grafanaUserId: ours } });
    }
  },
};

/**
 * The Grafana id on record: this job's own once it chose its target (the Keycloak user may be
 * gone by a retry), else the Keycloak user's (`grafana-user-id`, written by the provisioner
 * and read-only to the trainee). Null: none.
 */
function recordedGrafanaId(chosen: DeleteState['target'], user: IdentityUser | undefined): number | null {
  if (chosen) return chosen.grafanaUserId ?? null;
  return typeof user?.grafanaUserId === 'number' ? user.grafanaUserId : null;
}

/**
 * The account the recorded id leads to when the login does not. A signed-in Grafana user may
 * change their own login (`PUT /api/user`): the trainee's account is then found under the
 * login no more, or another account holds the name, and a delete by login alone would leave
 * the renamed account (and its access) behind. The id found absent, the login's answer stands
 * (and is judged as before: an account other than the recorded one is not ours).
 */
async function withRecordedAccount(grafana: GrafanaGateway, byLogin: GrafanaUser | undefined, recordedId: number | null, signal: AbortSignal | undefined): Promise<GrafanaUser | undefined> {
  if (recordedId === null || byLogin?.id === recordedId) return byLogin;
  return (await grafana.getUser(recordedId, signal)) ?? byLogin;
}

/**
 * An account found by id, not by login, is ours only by the Keycloak user's record of that id
 * (never by a login or email match), and never when it is a server admin or a denied login.
 */
function isRecordedAccount(found: GrafanaUser, user: Pick<IdentityUser, 'grafanaUserId'>, guards: IdentityGuards): boolean {
  return typeof user.grafanaUserId === 'number' && found.id === user.grafanaUserId && !isDeniedGrafanaUser(found, guards);
}

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

/**
 * The grace period a playground's pods get when their namespace goes (delete, recreate reset).
 * A pod may ask for any `terminationGracePeriodSeconds`, and its deleter for any grace; the
 * kubelet honours it, and the namespace stays Terminating until the pod is gone, its
 * RoleBinding with it, while the delete waiting on it times out before the Keycloak and
 * Grafana accounts. The admission policy caps new pods; this bounds the ones it did not see.
 */
export const POD_GRACE_ON_DELETE_SECONDS = 30;

/**
 * The namespace, waiting until it is gone. Its pods are deleted with a bounded grace right
 * after the namespace itself: once it is Terminating no pod can be made in it, so none can
 * slip in after the cut (the namespace controller's own pod delete uses each pod's grace,
 * and a second delete only ever shortens it). Idempotent: a retry cuts again. The wait then
 * nudges the namespace controller, which would otherwise come back only after half the
 * grace the pods' specs ask for (waitForNamespaceGone, kubernetes.adapter.ts).
 */
const removeNamespace: Step<DeleteRun> = {
  name: 'namespace',
  async ensure(run) {
    const { deps, ctx, username } = run;
    if (!run.namespace || username === undefined) return;
    await mark(run, 'namespace', await deps.cluster.deleteNamespace(username, ctx.signal));
    await deps.cluster.deletePods(username, POD_GRACE_ON_DELETE_SECONDS, ctx.signal);
    await deps.cluster.waitForNamespaceGone(username, deps.namespaceDeleteTimeoutMs, ctx.signal);
  },
};

const removeKeycloakUser: Step<DeleteRun> = {
  name: 'keycloak-user',
  async ensure(run) {
    if (run.user) await mark(run, 'keycloak', await run.deps.identity.deleteUser(run.user.id, run.ctx.signal));
  },
};

/**
 * Only the account recorded at inspect, and only while this attempt's inspect found it again
 * (by login, or by the recorded id once its trainee renamed it); never a server admin or a
 * denied login.
 */
const removeGrafanaUser: Step<DeleteRun> = {
  name: 'grafana-user',
  async ensure(run) {
    const { grafanaUser } = run;
    const ours = run.ctx.state.get().target?.grafanaUserId ?? null;
    if (grafanaUser && ours !== null && grafanaUser.id === ours && !isDeniedGrafanaUser(grafanaUser, run.deps.guards)) {
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
 * never a denied login; a login its trainee renamed is found by the recorded id), and
 * "not found" counts as done everywhere. Used by DELETE, by
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
