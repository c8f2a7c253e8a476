import { isRetryable, describeError } from '../errors.js';
import type { IdentityUser } from '../ports/identity-provider.js';
import type { ListedIdentity, SyncUserResult } from '../queue/fleet-contract.js';
import { traineeOf, type FleetPorts, type FleetSettings } from './fleet-context.js';
import { UsernameConflictError } from '../errors.js';
import type { GrafanaUser } from '../ports/grafana-gateway.js';
import { defaultGuards, grafanaEmail } from '../provisioning/ownership.js';
import { createGrafanaAccount, isOurGrafanaAccount, renamedGrafanaAccount, type GrafanaRecord, type LeftGrafanaAccountStore } from '../provisioning/steps/grafana-account.js';
import { memoryJobState, type CreateState, type DeleteState, type StepContext } from '../provisioning/step-context.js';
import { deletePlayground } from '../provisioning/delete-playground.js';
import { PLAYGROUND_STEPS, type PlaygroundRun } from '../provisioning/steps/playground-run.js';
import { runSteps } from '../saga/runner.js';
import { cohortOfUser } from '../cohort/membership.js';
import { inspectSync } from './sync-dry-run.js';

/**
 * Kept between attempts, written BEFORE each repair, so a retry after a crash still
 * reports what this job fixed (the second look would find nothing missing).
 */
export interface SyncState {
  namespaceMissing?: boolean;
  grafanaMissing?: boolean;
  wasUnprovisioned?: boolean;
  /**
   * Which password the recreated Grafana user got, decided before it is created: the
   * trainee's current one, a new one for Grafana alone, or a new one for both (asked).
   */
  grafanaPassword?: 'current' | 'new' | 'new-both';
  /** The Grafana account this sync made (recorded right after it is made). */
  grafanaUserId?: number;
}

export interface SyncOptions {
  /** True while a create job for this username is queued or running: its half-made user is not ours to finish. */
  createPending?: (username: string, signal?: AbortSignal) => Promise<boolean>;
  /** The trainee's current password while the service still holds it sealed (their create job's); else undefined. */
  currentPassword?: (user: IdentityUser, signal?: AbortSignal) => Promise<string | undefined>;
  /** The Grafana account the trainee's failed create job recorded making for this very user (`failedCreateRecord`); else undefined. */
  failedCreate?: (user: IdentityUser, signal?: AbortSignal) => Promise<GrafanaRecord | undefined>;
  /**
   * The accounts failed creates left, kept by username (grafana-account.ts): the rollback's
   * delete asks it when the failed job says nothing (a new POST of the trainee replaced it).
   */
  leftAccounts?: LeftGrafanaAccountStore;
}

/**
 * What a failed create's state proves it made in Grafana, for sync's rollback: the account is
 * recorded in Keycloak only at the create's `finish`, so until then the job's own marks are
 * the only record (its `owned.grafana`, set before the account is sent, and the id when it
 * was kept). Only when the job recorded this very Keycloak user; the same rule as the
 * create's own undo (its id, or our login with our email).
 */
export function failedCreateRecord(state: CreateState, user: Pick<IdentityUser, 'id'>): GrafanaRecord | undefined {
  if (state.userId !== user.id || state.owned?.grafana !== true) return undefined;
  return { madeId: state.grafanaUserId, making: true };
}

export interface SyncRequestOptions {
  /** Also set the new password in Keycloak when Grafana's user is recreated (the call asked: `resetPasswords`). */
  resetPasswords?: boolean;
  /** Only report what would be repaired (sync-dry-run.ts); write nothing. */
  dryRun?: boolean;
  /** A dry run's user as its run listed them (fleet runs): the dry run then asks Keycloak nothing. Ignored by a real sync. */
  listed?: ListedIdentity | undefined;
}

/**
 * Repairs drift for one managed trainee: a missing namespace (or RBAC, quota, limits,
 * policy: applied again, idempotently), a missing Grafana user, and a user left without
 * `provisioned` (finished; rolled back when that fails for good).
 *
 * It never changes the trainee's cluster (Keycloak) password on its own: their cluster
 * login must keep working. A missing Grafana user is made
 * again with the current password while the service still holds it sealed, else with a
 * new password for Grafana alone (kept sealed under the job's key, reported as
 * `grafanaPasswordReset`). Keycloak gets the new password too only with `resetPasswords`.
 */
export class SyncUserService {
  constructor(
    private readonly ports: FleetPorts,
    private readonly settings: FleetSettings,
    private readonly options: SyncOptions = {},
  ) {}

  async sync(username: string, ctx: StepContext<SyncState>, request: SyncRequestOptions = {}): Promise<SyncUserResult> {
    if (request.dryRun) {
      const listed = request.listed && { ...request.listed, username, email: request.listed.email, createdAt: request.listed.createdAt, expiresAt: request.listed.expiresAt };
      const inspect = { createPending: this.options.createPending, resetPasswords: request.resetPasswords === true, signal: ctx.signal, listed };
      return inspectSync(this.ports, this.settings, username, inspect);
    }
    const none = { username, fixedGrafana: false, fixedNamespace: false, fixedProvisioned: false, rolledBack: false, passwordIssued: false };
    const user = await this.ports.identity.findUser(username, ctx.signal);
    if (!user || !user.managed) return { ...none, skipped: 'no managed user of that name' };
    if (user.provisioned && !ctx.state.get().wasUnprovisioned) return this.repair(user, ctx, request);

    if (await this.options.createPending?.(username, ctx.signal)) return { ...none, skipped: 'a create job for this user is pending' };
    await ctx.state.patch({ wasUnprovisioned: true });
    try {
      return await this.repair(user, ctx, request);
    } catch (error) {
      if (isRetryable(error)) throw error;
      const { code, message } = describeError(error);
      ctx.log.warn({ username, code }, 'half-made user cannot be finished: rolling it back');
      await this.rollback(user, ctx);
      return { ...none, rolledBack: true, error: `${code}: ${message}` };
    }
  }

  private async repair(user: IdentityUser, ctx: StepContext<SyncState>, request: SyncRequestOptions): Promise<SyncUserResult> {
    const { identity, cluster, grafana } = this.ports;
    const { signal } = ctx;
    const username = user.username;

    // The same namespace and fitting steps a create runs; a namespace made again is recorded
    // first, and gets its cohort label back from the Keycloak group.
    const playground: PlaygroundRun = {
      deps: { cluster, settings: this.settings.playground, namespaceDeleteTimeoutMs: this.settings.namespaceDeleteTimeoutMs, guards: this.#guards },
      ctx,
      username,
      traineeFor: async (namespace) => ({
        ...traineeOf(user, namespace, this.settings.defaultExpiryDays),
        ...(namespace ? {} : await cohortOfUser(identity, user.id, signal)),
      }),
      makingNamespace: () => ctx.state.patch({ namespaceMissing: true }),
    };
    await runSteps(PLAYGROUND_STEPS, playground, async () => undefined);

    let grafanaUser = await grafana.findUser(username, signal);
    if (grafanaUser && !this.#ours(grafanaUser, user, ctx.state.get())) {
      ctx.log.warn({ username, grafanaUserId: grafanaUser.id }, 'grafana login belongs to someone else');
      throw new UsernameConflictError(username);
    }
    // The trainee renamed their login: their account is still there (left so: delete finds it by id).
    grafanaUser ??= await renamedGrafanaAccount(grafana, user, this.#guards, signal);
    if (!grafanaUser) await ctx.state.patch({ grafanaMissing: true });
    const { grafanaMissing } = ctx.state.get();
    if (!grafanaUser) {
      const password = await this.grafanaPassword(user, ctx, request);
      const account = { login: username, email: user.email, name: username, password, orgId: this.settings.grafanaOrgId };
      // grafanaMissing, recorded above, is the ownership mark: the account is this sync's own.
      const id = await createGrafanaAccount(grafana, account, async () => undefined, signal);
      await ctx.state.patch({ grafanaUserId: id });
      grafanaUser = { id, login: username, email: grafanaEmail(username, user.email) };
    }
    // Records the id: the account this sync made, or (the migration of users made before
    // ids were recorded) the one the ownership rule recognised.
    if (user.grafanaUserId !== grafanaUser.id) await identity.setGrafanaUserId(user.id, grafanaUser.id, signal);
    if (grafanaMissing) await grafana.setOrgRole(this.settings.grafanaOrgId, grafanaUser.id, this.settings.grafanaRole, signal);

    const { wasUnprovisioned, namespaceMissing, grafanaPassword } = ctx.state.get();
    if (!user.provisioned) await identity.setProvisioned(user.id, true, signal);
    const issued = grafanaMissing === true && grafanaPassword !== 'current';
    return {
      username,
      fixedGrafana: grafanaMissing === true,
      fixedNamespace: namespaceMissing === true,
      fixedProvisioned: wasUnprovisioned === true,
      rolledBack: false,
      passwordIssued: issued,
      ...(grafanaMissing ? { grafanaPasswordReset: issued, keycloakPasswordReset: grafanaPassword === 'new-both' } : {}),
    };
  }

  /**
   * The password a recreated Grafana user gets. The choice is recorded before Grafana is
   * called, so a retry makes the same one; a new password is the job's own (sealed under
   * its key, the same on every attempt), so `GET /jobs/<child>` returns it as for a create.
   */
  private async grafanaPassword(user: IdentityUser, ctx: StepContext<SyncState>, request: SyncRequestOptions): Promise<string> {
    let choice = ctx.state.get().grafanaPassword;
    let current: string | undefined;
    if (choice === undefined || choice === 'current') {
      current = request.resetPasswords ? undefined : await this.options.currentPassword?.(user, ctx.signal);
      choice = current !== undefined ? 'current' : request.resetPasswords ? 'new-both' : 'new';
      await ctx.state.patch({ grafanaPassword: choice });
    }
    if (choice === 'current' && current !== undefined) return current;
    const password = await ctx.password();
    // Only when asked: the trainee's cluster login changes with it.
    if (choice === 'new-both') await this.ports.identity.setPassword(user.id, password, ctx.signal);
    return password;
  }

  get #guards() {
    return this.settings.guards ?? defaultGuards();
  }

  /**
   * The Grafana account is ours by the user's record (ownership.ts), or it is the one this
   * sync made: its id in the state, or, when the answer to the create was lost, the login
   * and email this sync gave it (it marked `grafanaMissing` after finding the login free).
   */
  #ours(found: GrafanaUser, user: IdentityUser, state: SyncState): boolean {
    return isOurGrafanaAccount(found, user, { madeId: state.grafanaUserId, making: state.grafanaMissing }, this.#guards);
  }

  /**
   * Removes what exists of a half-made user through the one delete (delete-playground.ts):
   * its namespace and Grafana account when ours (the account this sync made counts, and so
   * does the one its failed create made: that create's rollback may not have reached
   * Grafana), its Keycloak user. A namespace the provisioner does not manage is left alone.
   */
  private async rollback(user: IdentityUser, ctx: StepContext<SyncState>): Promise<void> {
    const state = ctx.state.get();
    const { leftAccounts } = this.options;
    const deps = { ...this.ports, namespaceDeleteTimeoutMs: this.settings.namespaceDeleteTimeoutMs, guards: this.#guards, ...(leftAccounts ? { leftAccounts } : {}) };
    // Its own record: the sync's state keeps what it repaired, not what a delete removed.
    const deleteCtx = { ...ctx, state: memoryJobState<DeleteState>(), progress: async () => undefined };
    // A sync that made the account found none under the login: any there now is its own or a stranger's.
    const madeBySync = state.grafanaMissing === true || state.grafanaUserId !== undefined;
    // Else the failed create's job state, else (the delete asks it) the record it left by username.
    const madeByCaller = madeBySync ? { madeId: state.grafanaUserId, making: state.grafanaMissing } : await this.options.failedCreate?.(user, ctx.signal);
    await deletePlayground(deps, { usernames: [user.username] }, deleteCtx, { madeByCaller, foreignNamespace: 'leave' });
  }
}
