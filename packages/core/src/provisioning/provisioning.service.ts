import { UpstreamError, UsernameConflictError } from '../errors.js';
import type { ClusterGateway, KubeObject } from '../ports/cluster-gateway.js';
import type { GrafanaGateway, GrafanaRole } from '../ports/grafana-gateway.js';
import type { IdentityProvider, IdentityUser } from '../ports/identity-provider.js';
import type { CreateJobData, CreateJobResult, DeleteJobData, DeleteJobResult } from '../queue/contract.js';
import {
  ANNOTATIONS,
  assertKnownProfile,
  namespaceManifest,
  namespacedManifests,
  staleObjects,
  type PlaygroundSettings,
  type Trainee,
} from '../domain/trainee-plan.js';
import { deletePlayground } from './delete-playground.js';
import { sameEmail, sameTrainee } from '../domain/identity.js';
import {
  EmailConflictError,
  NamespaceConflictError,
  assertNamespaceFree,
  defaultGuards,
  grafanaEmail,
  isDeniedGrafanaUser,
  isManagedNamespace,
  ownsGrafanaAccount,
  type IdentityGuards,
} from './ownership.js';
import type { CreateState, DeleteState, StepContext } from './step-context.js';

export interface ProvisioningDeps {
  identity: IdentityProvider;
  cluster: ClusterGateway;
  grafana: GrafanaGateway;
  settings: PlaygroundSettings;
  grafanaOrgId: number;
  grafanaRole: GrafanaRole;
  defaultExpiryDays: number;
  namespaceDeleteTimeoutMs: number;
  /** Reserved namespaces and Grafana's denied logins (default: `defaultGuards()`). */
  guards?: IdentityGuards;
  now?: () => Date;
}

/** The steps of a create, in order; progress reports use these names. */
export const CREATE_STEPS = [
  'inspect',
  'keycloak-user',
  'namespace',
  'rbac',
  'quota',
  'limits',
  'network-policy',
  'grafana-user',
  'finish',
] as const;
export type CreateStep = (typeof CREATE_STEPS)[number];

/** Which step writes which namespaced kind. */
const STEP_OF_KIND: Record<string, CreateStep> = {
  RoleBinding: 'rbac',
  ResourceQuota: 'quota',
  LimitRange: 'limits',
  NetworkPolicy: 'network-policy',
};

const DAY_MS = 86_400_000;
/** How far apart the worker's and Keycloak's clocks may be when telling whether a user is this job's own. */
const CLOCK_SKEW_MS = 5 * 60_000;

/**
 * Creates and deletes a trainee's playground across Keycloak, Kubernetes and Grafana.
 * Every step is safe to run again after a crash at any point: what existed before the job
 * and what the job made itself are recorded in the job's state, the password comes from
 * the job's sealed store, and `provisioned=true` is written last.
 */
export class ProvisioningService {
  readonly #deps: ProvisioningDeps;
  readonly #now: () => Date;
  readonly #guards: IdentityGuards;

  constructor(deps: ProvisioningDeps) {
    this.#deps = deps;
    this.#now = deps.now ?? (() => new Date());
    this.#guards = deps.guards ?? defaultGuards();
  }

  async create(input: CreateJobData, ctx: StepContext<CreateState>): Promise<CreateJobResult> {
    const { identity, cluster, grafana, settings, grafanaOrgId, grafanaRole } = this.#deps;
    const { username } = input;
    const { signal, log } = ctx;
    const step = (name: CreateStep) => ctx.progress(name, CREATE_STEPS.indexOf(name), CREATE_STEPS.length);

    await step('inspect');
    assertKnownProfile(settings, input.profile);
    // Before Keycloak hears of it: a refused create never leaves a working password behind.
    await this.#checkNames(input, ctx);
    if (ctx.state.get().createdAt === undefined) {
      const createdAt = this.#now().toISOString();
      const expiresAt = input.expiresAt ?? new Date(this.#now().getTime() + this.#deps.defaultExpiryDays * DAY_MS).toISOString();
      await ctx.state.patch({ createdAt, expiresAt });
    }
    const { createdAt, expiresAt } = ctx.state.get() as Required<Pick<CreateState, 'createdAt' | 'expiresAt'>>;
    // A first attempt does not look the user up: most creates are for new trainees, so
    // Keycloak is asked to create the user straight away (next step) and the lookup only
    // happens when it answers that the name is taken. Later attempts look up first.
    const firstAttempt = ctx.state.get().initial === undefined && ctx.state.get().creatingAt === undefined;
    let user = firstAttempt ? undefined : await this.#judge(input, await identity.findUser(username, signal), ctx, { mayBeOurs: true });

    await step('keycloak-user');
    let made: IdentityUser | undefined;
    if (firstAttempt) {
      const outcome = await this.#createIdentity(input, await ctx.password(), expiresAt, ctx);
      made = outcome.made;
      user = made ?? (await this.#judge(input, outcome.holder, ctx, { mayBeOurs: false }));
    }
    const initial = ctx.state.get().initial as NonNullable<CreateState['initial']>;
    if (user?.provisioned && initial === 'provisioned') {
      log.info({ userId: user.id }, 'already provisioned: nothing to do');
      return { username, userId: user.id, email: user.email, alreadyProvisioned: true, passwordIssued: false, namespace: username };
    }
    const password = await ctx.password();
    user = made ?? (await this.#ensureIdentity(input, user, password, expiresAt, ctx));

    const trainee: Trainee = { username, userId: user.id, email: input.email, createdAt, expiresAt, profile: input.profile };
    await step('namespace');
    await this.#ensureNamespace(namespaceManifest(settings, trainee), ctx);
    const manifests = namespacedManifests(settings, trainee);
    for (const name of ['rbac', 'quota', 'limits', 'network-policy'] as const) {
      await step(name);
      // Kinds without a step of their own (template objects) go with the last fittings step.
      for (const object of manifests.filter((o) => (STEP_OF_KIND[o.kind] ?? 'network-policy') === name)) await cluster.apply(object, signal);
      if (name === 'network-policy') for (const ref of staleObjects(settings, username)) await cluster.delete(ref, signal);
    }

    await step('grafana-user');
    const grafanaUserId = await this.#ensureGrafanaUser(input, user, password, ctx);
    await grafana.setOrgRole(grafanaOrgId, grafanaUserId, grafanaRole, signal);

    await step('finish');
    // The Grafana id is recorded with `provisioned`, in the same write: it is what later
    // deletes, syncs and creates go by (ownership.ts).
    await identity.setProvisioned(user.id, true, signal, grafanaUserId);
    log.info({ userId: user.id, grafanaUserId, initial }, 'playground provisioned');
    return { username, userId: user.id, email: input.email, alreadyProvisioned: false, passwordIssued: true, namespace: username, grafanaUserId };
  }

  /**
   * Names nobody may take, and a namespace that is someone else's: refused on every attempt
   * before anything is made (a later attempt re-checks, the namespace may have appeared).
   * A managed namespace counts as someone else's when its recorded email is another one.
   */
  async #checkNames(input: CreateJobData, ctx: StepContext<CreateState>): Promise<void> {
    const { username } = input;
    if (isDeniedGrafanaUser({ login: username }, this.#guards)) {
      ctx.log.warn({ username }, 'username is a protected Grafana login');
      throw new UsernameConflictError(username);
    }
    assertNamespaceFree(username, this.#guards);
    const namespace = await this.#deps.cluster.getNamespace(username, ctx.signal);
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
  async #judge(input: CreateJobData, user: IdentityUser | undefined, ctx: StepContext<CreateState>, { mayBeOurs }: { mayBeOurs: boolean }): Promise<IdentityUser | undefined> {
    if (user && (!user.managed || !sameTrainee(user, input))) {
      ctx.log.warn({ existingUserId: user.id, managed: user.managed }, 'username belongs to someone else');
      throw new UsernameConflictError(input.username);
    }
    const state = ctx.state.get();
    if (state.initial !== undefined) return user;
    const ours =
      mayBeOurs && user !== undefined && state.creatingAt !== undefined && !user.provisioned && user.createdAt >= state.creatingAt - CLOCK_SKEW_MS;
    const initial = !user || ours ? 'absent' : user.provisioned ? 'provisioned' : 'partial';
    await ctx.state.patch({ initial, owned: { ...state.owned, keycloak: initial === 'absent' }, ...(ours && user ? { userId: user.id } : {}) });
    return user;
  }

  /**
   * Creates the user, marked owned before it is sent. When Keycloak answers that the
   * username is taken (409, and a user of that name exists), that user was there before:
   * it is returned as `holder`, not owned, for the caller to judge. A 409 for the email
   * alone stays an error.
   */
  async #createIdentity(
    input: CreateJobData,
    password: string,
    expiresAt: string,
    ctx: StepContext<CreateState>,
  ): Promise<{ made: IdentityUser; holder?: never } | { made?: never; holder: IdentityUser }> {
    await ctx.state.patch({ creatingAt: this.#now().getTime(), owned: { ...ctx.state.get().owned, keycloak: true } });
    const [firstName, ...rest] = (input.fullName ?? '').trim().split(/\s+/);
    let userId: string;
    try {
      userId = await this.#deps.identity.createUser(
        {
          username: input.username,
          email: input.email,
          firstName: firstName || undefined,
          lastName: rest.join(' ') || undefined,
          password,
          expiresAt,
          profile: input.profile,
        },
        ctx.signal,
      );
    } catch (error) {
      const holder = error instanceof UpstreamError && error.status === 409 ? await this.#deps.identity.findUser(input.username, ctx.signal) : undefined;
      if (!holder) throw error;
      await ctx.state.patch({ owned: { ...ctx.state.get().owned, keycloak: false } });
      return { holder };
    }
    await ctx.state.patch({ initial: 'absent', userId });
    ctx.log.info({ userId }, 'keycloak user created');
    return { made: { id: userId, username: input.username, email: input.email, enabled: true, managed: true, provisioned: false, expiresAt, createdAt: Date.now(), grafanaUserId: null } };
  }

  /**
   * Makes sure the user found exists with the job's password: one found (half-made, or this
   * job's own from an attempt whose answer was lost) gets the stored password, so every
   * system agrees; none (a retry after a failed create) is created now, unless someone took
   * the name in between.
   */
  async #ensureIdentity(
    input: CreateJobData,
    existing: IdentityUser | undefined,
    password: string,
    expiresAt: string,
    ctx: StepContext<CreateState>,
  ): Promise<IdentityUser> {
    if (existing) {
      await this.#deps.identity.setPassword(existing.id, password, ctx.signal);
      await ctx.state.patch({ userId: existing.id });
      return existing;
    }
    const { made } = await this.#createIdentity(input, password, expiresAt, ctx);
    // Taken since the lookup: by someone else, since this job holds the trainee's create.
    if (!made) throw new UsernameConflictError(input.username);
    return made;
  }

  async #ensureNamespace(manifest: KubeObject, ctx: StepContext<CreateState>): Promise<void> {
    const { cluster, namespaceDeleteTimeoutMs } = this.#deps;
    const name = manifest.metadata.name;
    let namespace = await cluster.getNamespace(name, ctx.signal);
    if (namespace && !isManagedNamespace(namespace)) throw new NamespaceConflictError(name);
    if (namespace?.phase === 'Terminating') {
      // Left by a reset or a delete: let it finish, then make a fresh one.
      ctx.log.info({ namespace: name }, 'namespace is terminating: waiting for it to go');
      await cluster.waitForNamespaceGone(name, namespaceDeleteTimeoutMs, ctx.signal);
      namespace = undefined;
    }
    if (!namespace) await ctx.state.patch({ owned: { ...ctx.state.get().owned, namespace: true } });
    await cluster.apply(manifest, ctx.signal);
  }

  /**
   * The trainee's Grafana account, with the job's password. An account found under the
   * login is ours only by record: the id this job stored, the job's own create whose answer
   * was lost (it marked `owned.grafana` after finding the login free), or what the
   * Keycloak user records (ownership.ts). Anything else is someone else's: a
   * USERNAME_CONFLICT, and its password and role stay as they are.
   */
  async #ensureGrafanaUser(input: CreateJobData, user: IdentityUser, password: string, ctx: StepContext<CreateState>): Promise<number> {
    const { grafana, grafanaOrgId } = this.#deps;
    const { username } = input;
    const email = grafanaEmail(username, input.email);
    const state = ctx.state.get();
    const existing = await grafana.findUser(username, ctx.signal);
    if (existing) {
      const loginAndEmail = existing.login === username && sameEmail(existing.email, email);
      const ours =
        !isDeniedGrafanaUser(existing, this.#guards) &&
        (state.grafanaUserId !== undefined
          ? existing.id === state.grafanaUserId
          : state.owned?.grafana
            ? loginAndEmail
            : ownsGrafanaAccount(existing, user, this.#guards));
      if (!ours) {
        ctx.log.warn({ grafanaUserId: existing.id }, 'grafana login belongs to someone else');
        throw new UsernameConflictError(username);
      }
      await grafana.setPassword(existing.id, password, ctx.signal);
      await ctx.state.patch({ grafanaUserId: existing.id });
      return existing.id;
    }
    const byEmail = email === username ? undefined : await grafana.findUser(email, ctx.signal);
    if (byEmail) throw new EmailConflictError('grafana', username);
    await ctx.state.patch({ owned: { ...ctx.state.get().owned, grafana: true } });
    const id = await grafana.createUser({ login: username, email, name: input.fullName ?? username, password, orgId: grafanaOrgId }, ctx.signal);
    await ctx.state.patch({ grafanaUserId: id });
    ctx.log.info({ grafanaUserId: id }, 'grafana user created');
    return id;
  }

  /**
   * Undoes a create that finally failed: removes only what its state says this job made,
   * "not found" counting as done. A user that was fully provisioned before the job, or a
   * half-made one this job did not make, is left for sync to handle. Throws the first
   * error after trying every part.
   */
  async rollbackCreate(input: CreateJobData, ctx: StepContext<CreateState>): Promise<{ keycloak: boolean; namespace: boolean; grafana: boolean }> {
    const { identity, cluster, grafana, namespaceDeleteTimeoutMs } = this.#deps;
    const { username } = input;
    const { signal, log } = ctx;
    const state = ctx.state.get();
    const removed = { keycloak: false, namespace: false, grafana: false };
    if (state.initial === 'provisioned') return removed;
    const owned = state.owned ?? {};
    const errors: unknown[] = [];
    const attempt = async (part: keyof typeof removed, work: () => Promise<boolean>) => {
      try {
        removed[part] = await work();
      } catch (error) {
        errors.push(error);
      }
    };

    if (owned.grafana) {
      await attempt('grafana', async () => {
        const found = await grafana.findUser(username, signal);
        // Only the account this job made: its recorded id, or our login with our email.
        const ours =
          found &&
          !isDeniedGrafanaUser(found, this.#guards) &&
          (state.grafanaUserId === undefined ? found.login === username && sameEmail(found.email, grafanaEmail(username, input.email)) : found.id === state.grafanaUserId);
        return ours ? grafana.deleteUser(found.id, signal) : false;
      });
    }
    if (owned.namespace) {
      await attempt('namespace', async () => {
        const namespace = await cluster.getNamespace(username, signal);
        if (!namespace || !isManagedNamespace(namespace)) return false;
        const deleted = await cluster.deleteNamespace(username, signal);
        await cluster.waitForNamespaceGone(username, namespaceDeleteTimeoutMs, signal);
        return deleted;
      });
    }
    if (owned.keycloak) {
      await attempt('keycloak', async () => {
        const found = await identity.findUser(username, signal);
        const ours = found && found.managed && (state.userId === undefined ? sameEmail(found.email, input.email) : found.id === state.userId);
        return ours ? identity.deleteUser(found.id, signal) : false;
      });
    }
    log.info({ removed }, 'create rolled back');
    if (errors.length > 0) throw errors[0];
    return removed;
  }

  async delete(input: DeleteJobData, ctx: StepContext<DeleteState>): Promise<DeleteJobResult> {
    return deletePlayground({ ...this.#deps, guards: this.#guards }, input, ctx);
  }
}
