import { PURGE_KEEPS } from '../domain/trainee-plan.js';
import { NamespaceConflictError, assertNamespaceFree, defaultGuards, isManagedNamespace } from '../provisioning/ownership.js';
import { POD_GRACE_ON_DELETE_SECONDS } from '../provisioning/delete-playground.js';
import type { StepContext } from '../provisioning/step-context.js';
import type { IdentityUser } from '../ports/identity-provider.js';
import type { ListedUser, ResetMode, ResetUserResult } from '../queue/fleet-contract.js';
import { traineeOf, type FleetPorts, type FleetSettings } from './fleet-context.js';
import { PLAYGROUND_STEPS, type PlaygroundRun } from '../provisioning/steps/playground-run.js';
import { runSteps } from '../saga/runner.js';
import { restorePurgedFittings } from '../saga/fittings.js';
import { cohortOfUser } from '../cohort/membership.js';
import { fittingsCurrent, typesToPurge, type InventoryCache } from './purge-inventory.js';

/** A fleet child reports no step progress. */
const NO_PROGRESS = async () => undefined;

/** Kept between attempts: a recreate that already deleted the namespace does not delete it again. */
export interface ResetState {
  namespaceGone?: boolean;
}

/** What a fleet run's child knows beyond the username: its run, and the user as listed. */
export interface ResetHint {
  runId: string;
  listed?: ListedUser | undefined;
}

/**
 * Resets one trainee's namespace to a clean state.
 * - `recreate`: delete the namespace, wait until it is gone, apply it again with its
 *   RBAC, quota, limits and policy: nothing the trainee made survives.
 * - `purge`: empty it in place (one delete-collection per namespaced type), keeping the
 *   quota, binding, limits and policy; the namespace keeps its UID.
 *   Fast path (a fleet run's child, with the run's cluster inventory): when the namespace
 *   existed, was managed, not terminating, and had current fittings when the inventory
 *   was taken, nothing is re-applied and only the types the inventory saw occupied are
 *   emptied (one delete-collection per occupied type, none for an empty playground,
 *   instead of ~33 requests). It creates nothing, so it trusts the run's listing of the
 *   user and the inventory's view of the namespace: the reset is of the state at the
 *   inventory's moment (a namespace deleted or relabelled since is not noticed by that
 *   run). Anything else takes the full path, which looks the user and the namespace up.
 * Only provisioned users are reset; anyone else is skipped, not failed: they may have
 * been deleted since the run listed them.
 */
export class ResetUserService {
  constructor(
    private readonly ports: FleetPorts,
    private readonly settings: FleetSettings,
    private readonly inventories?: InventoryCache,
  ) {}

  async reset(username: string, mode: ResetMode, ctx: StepContext<ResetState>, hint?: ResetHint): Promise<ResetUserResult> {
    const { identity, cluster } = this.ports;
    const signal = ctx.signal;
    if (mode === 'purge' && hint?.listed && this.inventories) {
      const done = await this.#purgeFast(username, hint.runId, hint.listed, ctx);
      if (done) return done;
    }
    const user = await identity.findUser(username, signal);
    if (!user || !user.managed || !user.provisioned) {
      return { username, reset: false, mode, skipped: 'not a provisioned user' };
    }
    const namespace = await cluster.getNamespace(username, signal);
    if (namespace && !isManagedNamespace(namespace)) throw new NamespaceConflictError(username);
    // A missing namespace is made again with its cohort label, from the Keycloak group.
    const trainee = { ...traineeOf(user, namespace, this.settings.defaultExpiryDays), ...(namespace ? {} : await cohortOfUser(identity, user.id, signal)) };
    // A reset that would make the namespace (recreate, or a missing one) needs a name still free.
    const guards = this.settings.guards ?? defaultGuards();
    if (mode === 'recreate' || !namespace) assertNamespaceFree(username, guards);

    // The same namespace and fitting steps a create runs, for the trainee as found before the reset.
    const playground: PlaygroundRun = {
      deps: { cluster, settings: this.settings.playground, namespaceDeleteTimeoutMs: this.settings.namespaceDeleteTimeoutMs, guards },
      ctx,
      username,
      trainee,
      traineeFor: () => trainee,
      makingNamespace: async () => undefined,
    };
    if (mode === 'recreate') {
      if (!ctx.state.get().namespaceGone) {
        const deleted = await cluster.deleteNamespace(username, signal);
        if (deleted) {
          // As the delete does (delete-playground.ts): a pod's own grace must not hold the namespace.
          await cluster.deletePods(username, POD_GRACE_ON_DELETE_SECONDS, signal);
          await cluster.waitForNamespaceGone(username, this.settings.namespaceDeleteTimeoutMs, signal);
        }
        await ctx.state.patch({ namespaceGone: true });
        ctx.log.info({ username, existed: deleted }, 'namespace deleted for reset');
      }
      await runSteps(PLAYGROUND_STEPS, playground, NO_PROGRESS);
    } else {
      // Apply first (a terminating namespace is waited for, a missing one made, the kept fittings put right), then empty it.
      await runSteps(PLAYGROUND_STEPS, playground, NO_PROGRESS);
      const types = await cluster.purgeNamespace(username, PURGE_KEEPS, signal);
      await restorePurgedFittings(cluster, this.settings.playground, trainee, PURGE_KEEPS, signal);
      ctx.log.info({ username, types }, 'namespace purged');
    }
    return { username, reset: true, mode };
  }

  /** The fast purge, or undefined when the full path must run (see the class comment). */
  async #purgeFast(username: string, runId: string, listed: ListedUser, ctx: StepContext<ResetState>): Promise<ResetUserResult | undefined> {
    const { cluster } = this.ports;
    const signal = ctx.signal;
    const inventory = await this.inventories!.get(runId);
    // The namespace as the run's inventory saw it: no request of its own (see the class comment).
    const namespace = inventory.namespaces.get(username);
    if (!namespace || !isManagedNamespace(namespace) || namespace.phase === 'Terminating') return undefined;
    const user: IdentityUser = { ...listed, username, email: listed.email, createdAt: listed.createdAt, expiresAt: listed.expiresAt, enabled: true, managed: true, provisioned: true };
    const trainee = traineeOf(user, namespace, this.settings.defaultExpiryDays);
    if (!fittingsCurrent(this.settings.playground, trainee, namespace, inventory)) {
      ctx.log.info({ username }, 'fittings not current: full purge');
      return undefined;
    }
    const types = typesToPurge(inventory, username);
    await cluster.purgeTypes(username, types, signal);
    ctx.log.info({ username, types: types.length }, 'namespace purged (inventory)');
    return { username, reset: true, mode: 'purge' };
  }
}
