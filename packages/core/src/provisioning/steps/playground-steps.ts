import { UsernameConflictError } from '../../errors.js';
import { markOwned, owns, type Step } from '../../saga/runner.js';
import { isManagedNamespace } from '../ownership.js';
import { need, type CreateRun } from './create-run.js';
import { createGrafanaAccount, createGrafanaAccountFirst, isOurGrafanaAccount, leftAccountRecord, type NewGrafanaAccount } from './grafana-account.js';
import type { GrafanaUser } from '../../ports/grafana-gateway.js';
import type { IdentityUser } from '../../ports/identity-provider.js';
import { namespaceStep } from './playground-run.js';

/** The namespace (playground-run.ts); undo deletes it, if this run made it and it still carries the provisioner's mark. */
export const createNamespaceStep: Step<CreateRun> = {
  ...namespaceStep,
  async undo({ deps, input, ctx }) {
    if (!owns(ctx.state.get(), 'namespace')) return false;
    const { username } = input;
    const namespace = await deps.cluster.getNamespace(username, ctx.signal);
    if (!namespace || !isManagedNamespace(namespace)) return false;
    const deleted = await deps.cluster.deleteNamespace(username, ctx.signal);
    await deps.cluster.waitForNamespaceGone(username, deps.namespaceDeleteTimeoutMs, ctx.signal);
    return deleted;
  },
};

/**
 * The trainee's Grafana account, with the job's password, and its role. An account found
 * under the login is ours only by record (grafana-account.ts): anything else is someone
 * else's, a USERNAME_CONFLICT, and its password and role stay as they are.
 * Undo: deletes only the account this job made (its recorded id, or our login with our email).
 */
export const grafanaUserStep: Step<CreateRun> = {
  name: 'grafana-user',
  async ensure(run) {
    const { deps, input, ctx } = run;
    const { username } = input;
    const user = need(run.user, 'user');
    const password = need(run.password, 'password');
    const account = { login: username, email: input.email, name: input.fullName ?? username, password, orgId: deps.grafanaOrgId };
    const id = (await createAtOnce(run, account)) ?? (await takeOrCreate(run, user, account));
    // Lost in a crash before the next record, the account is found again by its mark (our login, our email).
    ctx.state.stage({ grafanaUserId: id });
    run.grafanaUserId = id;
    await deps.grafana.setOrgRole(deps.grafanaOrgId, id, deps.grafanaRole, ctx.signal);
  },
  async undo(run) {
    const { deps, input, ctx } = run;
    const state = ctx.state.get();
    if (!owns(state, 'grafana')) return false;
    const { username } = input;
    try {
      const found = await deps.grafana.findUser(username, ctx.signal);
      const ours = found && isOurGrafanaAccount(found, { username, email: input.email, grafanaUserId: null }, { madeId: state.grafanaUserId, making: true }, deps.guards);
      return ours ? await deps.grafana.deleteUser(found.id, ctx.signal) : false;
    } catch (error) {
      run.grafanaLeft = true;
      throw error;
    }
  },
};

/**
 * A job that never reached Grafana makes the account straight away: most logins are free,
 * and Grafana refuses (412, nothing made) a taken login or email, which `takeOrCreate` judges.
 */
async function createAtOnce({ deps, ctx }: CreateRun, account: NewGrafanaAccount): Promise<number | undefined> {
  const state = ctx.state.get();
  if (state.owned?.grafana !== undefined || state.grafanaUserId !== undefined) return undefined;
  const marks = { making: () => markOwned(ctx.state, 'grafana'), notMade: () => markOwned(ctx.state, 'grafana', false) };
  const id = await createGrafanaAccountFirst(deps.grafana, account, marks, ctx.signal);
  if (id !== undefined) ctx.log.info({ grafanaUserId: id }, 'grafana user created');
  return id;
}

/** The account under the login, with the job's password when it is ours by record; made when there is none. */
async function takeOrCreate({ deps, input, ctx }: CreateRun, user: IdentityUser, account: NewGrafanaAccount): Promise<number> {
  const { username } = input;
  const state = ctx.state.get();
  const existing = await deps.grafana.findUser(username, ctx.signal);
  if (!existing) {
    const id = await createGrafanaAccount(deps.grafana, account, () => markOwned(ctx.state, 'grafana'), ctx.signal);
    ctx.log.info({ grafanaUserId: id }, 'grafana user created');
    return id;
  }
  // The user as this job sees it: its email is the job's, whatever Keycloak holds.
  const seen = { ...user, username, email: input.email };
  const ours = isOurGrafanaAccount(existing, seen, { madeId: state.grafanaUserId, making: state.owned?.grafana }, deps.guards) || (await leftForUser(deps, seen, existing));
  if (!ours) {
    ctx.log.warn({ grafanaUserId: existing.id }, 'grafana login belongs to someone else');
    throw new UsernameConflictError(username);
  }
  await deps.grafana.setPassword(existing.id, account.password, ctx.signal);
  return existing.id;
}

/**
 * The account an earlier, failed create made for this very Keycloak user and could not
 * remove: ours by that create's record (kept by username, since a new POST replaced the
 * failed job and its state), by the same rule as its own undo. Asked only when the login is
 * taken and this job's own marks do not claim the account.
 */
async function leftForUser(deps: CreateRun['deps'], user: IdentityUser, found: GrafanaUser): Promise<boolean> {
  const record = leftAccountRecord(await deps.leftAccounts?.get(user.username), user);
  return record !== undefined && isOurGrafanaAccount(found, user, record, deps.guards);
}

/**
 * `provisioned=true`, written last, with the Grafana id in the same write: it is what later
 * deletes, syncs and creates go by (ownership.ts). A user this attempt created is written
 * back whole as it was created, without a read; one found (made by an earlier attempt, or
 * half-made before this job) is read first, so nothing it holds is lost.
 */
export const finishStep: Step<CreateRun> = {
  name: 'finish',
  async ensure(run) {
    const { deps, input, ctx } = run;
    const user = need(run.user, 'user');
    const grafanaUserId = need(run.grafanaUserId, 'Grafana account');
    const { created } = run;
    if (created?.id === user.id) await deps.identity.setCreatedProvisioned(user.id, created.user, grafanaUserId, ctx.signal);
    else await deps.identity.setProvisioned(user.id, true, ctx.signal, grafanaUserId);
    // The user records its account now: a failed create's record of it is done with. Only a
    // half-made user found can have one (a new trainee's user is this job's own).
    if (ctx.state.get().initial === 'partial') await deps.leftAccounts?.clear(input.username);
    ctx.log.info({ userId: user.id, grafanaUserId, initial: ctx.state.get().initial }, 'playground provisioned');
    const { username, email } = input;
    run.result = { username, userId: user.id, email, alreadyProvisioned: false, passwordIssued: true, namespace: username, grafanaUserId };
  },
};
