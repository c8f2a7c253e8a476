import { UpstreamError, UsernameConflictError } from '../../errors.js';
import { ANNOTATIONS, assertKnownProfile } from '../../domain/trainee-plan.js';
import { sameEmail, sameTrainee } from '../../domain/identity.js';
import type { IdentityUser } from '../../ports/identity-provider.js';
import { markOwned, owns, type Step } from '../../saga/runner.js';
import { assertNamespaceFree, isDeniedGrafanaUser, isManagedNamespace, NamespaceConflictError } from '../ownership.js';
import type { CreateState } from '../step-context.js';
import { need, type CreateRun } from './create-run.js';

const DAY_MS = 86_400_000;
/** How far apart the worker's and Keycloak's clocks may be when telling whether a user is this job's own. */
const CLOCK_SKEW_MS = 5 * 60_000;

/**
 * Refuses names nobody may take and a namespace that is someone else's, before Keycloak
 * hears of it (a refused create never leaves a working password behind), on every attempt
 * (the namespace may have appeared since). Fixes the dates once, so retries write the same
 * annotations. A later attempt also looks the user up and judges it.
 */
export const inspectStep: Step<CreateRun> = {
  name: 'inspect',
  async ensure(run) {
    const { input, ctx, deps } = run;
    // A profile this configuration lacks: refused before anything is made (the API checks first; settings may differ).
    assertKnownProfile(deps.settings, input.profile);
    await checkNames(run);
    if (ctx.state.get().createdAt === undefined) {
      const createdAt = deps.now().toISOString();
      const expiresAt = input.expiresAt ?? new Date(deps.now().getTime() + deps.defaultExpiryDays * DAY_MS).toISOString();
      // Written with the next record, which comes before anything is made with them.
      ctx.state.stage({ createdAt, expiresAt });
    }
    // A first attempt does not look the user up: most creates are for new trainees, so
    // Keycloak is asked to create the user straight away (next step) and the lookup only
    // happens when it answers that the name is taken. Later attempts look up first.
    const state = ctx.state.get();
    run.firstAttempt = state.initial === undefined && state.creatingAt === undefined;
    if (!run.firstAttempt) run.user = await judge(run, await deps.identity.findUser(input.username, ctx.signal), { mayBeOurs: true });
  },
};

/**
 * The Keycloak user with the job's password, made or finished. A user already provisioned
 * before this job ends the create here: nothing changes and no password is issued.
 * Undo: deletes only the user this job made (its recorded id, or a managed user with the
 * trainee's email when the id was never recorded).
 */
export const keycloakUserStep: Step<CreateRun> = {
  name: 'keycloak-user',
  async ensure(run) {
    const { input, ctx } = run;
    const expiresAt = need(ctx.state.get().expiresAt, 'expiry');
    let made: IdentityUser | undefined;
    if (run.firstAttempt) {
      const outcome = await createIdentity(run, await ctx.password(), expiresAt);
      made = outcome.made;
      run.user = made ?? (await judge(run, outcome.holder, { mayBeOurs: false }));
    }
    const { initial, createdAt } = ctx.state.get();
    if (run.user?.provisioned && initial === 'provisioned') {
      const { user } = run;
      ctx.log.info({ userId: user.id }, 'already provisioned: nothing to do');
      run.result = { username: input.username, userId: user.id, email: user.email, alreadyProvisioned: true, passwordIssued: false, namespace: input.username };
      run.stopped = true;
      return;
    }
    run.password = await ctx.password();
    const user = made ?? (await ensureIdentity(run, run.user, run.password, expiresAt));
    run.user = user;
    run.trainee = { username: input.username, userId: user.id, email: input.email, createdAt: need(createdAt, 'creation date'), expiresAt, profile: input.profile };
  },
  async undo({ deps, input, ctx, grafanaLeft }) {
    const state = ctx.state.get();
    if (!owns(state, 'keycloak')) return false;
    const found = await deps.identity.findUser(input.username, ctx.signal);
    const ours = found && found.managed && (state.userId === undefined ? sameEmail(found.email, input.email) : found.id === state.userId);
    if (!ours) return false;
    // Kept while the job's Grafana account could not be removed: a half-made user is what sync
    // rolls back and what the next create of the trainee finishes. Without it nothing would ever
    // look at the account, and every new create of the trainee would find its login taken. The
    // account's id goes on the user when the job knows it, so both find the account by record
    // (else sync still has the failed job's).
    if (grafanaLeft) {
      ctx.log.warn({ username: input.username }, 'Grafana account not removed: the Keycloak user is kept for sync or the next create');
      if (state.grafanaUserId !== undefined) await deps.identity.setGrafanaUserId(found.id, state.grafanaUserId, ctx.signal);
      return false;
    }
    return deps.identity.deleteUser(found.id, ctx.signal);
  },
};

/** A managed namespace counts as someone else's when its recorded email is another one. */
async function checkNames({ deps, input, ctx }: CreateRun): Promise<void> {
  const { username } = input;
  if (isDeniedGrafanaUser({ login: username }, deps.guards)) {
    ctx.log.warn({ username }, 'username is a protected Grafana login');
    throw new UsernameConflictError(username);
  }
  assertNamespaceFree(username, deps.guards);
  const namespace = await deps.cluster.getNamespace(username, ctx.signal);
  if (!namespace) return;
  if (!isManagedNamespace(namespace)) throw new NamespaceConflictError(username);
  const owner = namespace.annotations[ANNOTATIONS.email];
  if (namespace.phase !== 'Terminating' && !sameEmail(owner, input.email)) {
    ctx.log.warn({ namespace: username }, 'managed namespace of another email');
    throw new UsernameConflictError(username);
  }
}

/**
 * Refuses a user found under the name that belongs to someone else, and, when this job
 * has not decided it yet, records what existed before it: `absent` (nothing, or the user this
 * job's own create made before its answer was lost), `partial` or `provisioned`.
 * `mayBeOurs` is false right after Keycloak refused this job's create: the user was there
 * before. Otherwise a managed, unprovisioned user with our email that Keycloak made after
 * this job began creating (give or take the clocks' skew) is this job's own; a user taken
 * for ours by mistake can only be a half-made one of the same trainee, and a provisioned
 * user is never taken for ours.
 */
async function judge({ input, ctx }: CreateRun, user: IdentityUser | undefined, { mayBeOurs }: { mayBeOurs: boolean }): Promise<IdentityUser | undefined> {
  if (user && (!user.managed || !sameTrainee(user, input))) {
    ctx.log.warn({ existingUserId: user.id, managed: user.managed }, 'username belongs to someone else');
    throw new UsernameConflictError(input.username);
  }
  const state = ctx.state.get();
  if (state.initial !== undefined) return user;
  const made = user?.createdAt;
  // No creation time: not provably made after this job began, so not taken for ours.
  const ours = mayBeOurs && user !== undefined && state.creatingAt !== undefined && !user.provisioned && made !== undefined && made >= state.creatingAt - CLOCK_SKEW_MS;
  const initial: CreateState['initial'] = !user || ours ? 'absent' : user.provisioned ? 'provisioned' : 'partial';
  await ctx.state.patch({ initial, owned: { ...state.owned, keycloak: initial === 'absent' }, ...(ours && user ? { userId: user.id } : {}) });
  return user;
}

/**
 * Creates the user, marked owned before it is sent. When Keycloak answers that the
 * username is taken (409, and a user of that name exists), that user was there before:
 * it is returned as `holder`, not owned, for the caller to judge. A 409 for the email
 * alone stays an error.
 */
async function createIdentity(
  run: CreateRun,
  password: string,
  expiresAt: string,
): Promise<{ made: IdentityUser; holder?: never } | { made?: never; holder: IdentityUser }> {
  const { deps, input, ctx } = run;
  // One write: when the job last asked, and that what Keycloak makes now is its own.
  await ctx.state.patch({ creatingAt: deps.now().getTime(), owned: { ...ctx.state.get().owned, keycloak: true } });
  const [firstName, ...rest] = (input.fullName ?? '').trim().split(/\s+/);
  const created = { username: input.username, email: input.email, firstName: firstName || undefined, lastName: rest.join(' ') || undefined, expiresAt, profile: input.profile };
  let userId: string;
  try {
    userId = await deps.identity.createUser({ ...created, password }, ctx.signal);
  } catch (error) {
    const holder = error instanceof UpstreamError && error.status === 409 ? await deps.identity.findUser(input.username, ctx.signal) : undefined;
    if (!holder) throw error;
    await markOwned(ctx.state, 'keycloak', false);
    return { holder };
  }
  // Written with the namespace's mark: lost in a crash before it, it is found again, since a
  // later attempt judges a managed user made after `creatingAt` to be this job's own.
  ctx.state.stage({ initial: 'absent', userId });
  run.created = { id: userId, user: created };
  ctx.log.info({ userId }, 'keycloak user created');
  return {
    made: { id: userId, username: input.username, email: input.email, enabled: true, managed: true, provisioned: false, expiresAt, createdAt: Date.now(), grafanaUserId: null },
  };
}

/**
 * Makes sure the user found exists with the job's password: one found (half-made, or this
 * job's own from an attempt whose answer was lost) gets the stored password, so every
 * system agrees; none (a retry after a failed create) is created now, unless someone took
 * the name in between.
 */
async function ensureIdentity(run: CreateRun, existing: IdentityUser | undefined, password: string, expiresAt: string): Promise<IdentityUser> {
  const { deps, input, ctx } = run;
  if (existing) {
    await deps.identity.setPassword(existing.id, password, ctx.signal);
    const user = ctx.state.get().userId === undefined ? await takeOver(run, existing, expiresAt) : existing;
    await ctx.state.patch({ userId: existing.id });
    return user;
  }
  const { made } = await createIdentity(run, password, expiresAt);
  // Taken since the lookup: by someone else, since this job holds the trainee's create.
  if (!made) throw new UsernameConflictError(input.username);
  return made;
}

/**
 * A half-made user of an earlier job, taken over (once: before its id is recorded): it gets
 * this job's expiry and quota profile, which the namespace and the expire job get too (the
 * expire job and cleanup read Keycloak's). The job's own user already has them; a change
 * made to it since (an operator's expiry) stays.
 */
async function takeOver({ deps, input, ctx }: CreateRun, existing: IdentityUser, expiresAt: string): Promise<IdentityUser> {
  if (ctx.state.get().initial !== 'partial') return existing;
  const user = { ...existing };
  if (existing.expiresAt !== expiresAt && deps.identity.setExpiresAt) {
    await deps.identity.setExpiresAt(existing.id, expiresAt, ctx.signal);
    user.expiresAt = expiresAt;
  }
  // None asked: the default, as the namespace's label says (a user holding none has it already).
  const profile = input.profile ?? deps.settings.defaultProfile;
  const differs = existing.profile === undefined ? input.profile !== undefined : existing.profile !== profile;
  if (differs && deps.identity.setProfile) {
    await deps.identity.setProfile(existing.id, profile, ctx.signal);
    user.profile = profile;
  }
  return user;
}
