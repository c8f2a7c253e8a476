import { PURGE_KEEPS } from '../domain/trainee-plan.js';
import { NamespaceConflictError, isManagedNamespace } from '../provisioning/ownership.js';
import type { StepContext } from '../provisioning/step-context.js';
import type { ResetMode, ResetUserResult } from '../queue/fleet-contract.js';
import { traineeOf, type FleetPorts, type FleetSettings } from './fleet-context.js';
import { applyPlayground } from './playground-writer.js';

/** Kept between attempts: a recreate that already deleted the namespace does not delete it again. */
export interface ResetState {
  namespaceGone?: boolean;
}

/**
 * Resets one trainee's namespace to a clean state.
 * - `recreate`: delete the namespace, wait until it is gone, apply it again with its
 *   RBAC, quota, limits and policy (the old README's promise).
 * - `purge`: empty it in place (one delete-collection per namespaced type), keeping the
 *   quota, binding, limits and policy; the namespace keeps its UID (the old code).
 * Only provisioned users are reset; anyone else is skipped, not failed: they may have
 * been deleted since the run listed them.
 */
export class ResetUserService {
  constructor(
    private readonly ports: FleetPorts,
    private readonly settings: FleetSettings,
  ) {}

  async reset(username: string, mode: ResetMode, ctx: StepContext<ResetState>): Promise<ResetUserResult> {
    const { identity, cluster } = this.ports;
    const signal = ctx.signal;
    const user = await identity.findUser(username, signal);
    if (!user || !user.managed || !user.provisioned) {
      return { username, reset: false, mode, skipped: 'not a provisioned user' };
    }
    const namespace = await cluster.getNamespace(username, signal);
    if (namespace && !isManagedNamespace(namespace)) throw new NamespaceConflictError(username);
    const trainee = traineeOf(user, namespace, this.settings.defaultExpiryDays);

    if (mode === 'recreate') {
      if (!ctx.state.get().namespaceGone) {
        const deleted = await cluster.deleteNamespace(username, signal);
        if (deleted) await cluster.waitForNamespaceGone(username, this.settings.namespaceDeleteTimeoutMs, signal);
        await ctx.state.patch({ namespaceGone: true });
        ctx.log.info({ username, existed: deleted }, 'namespace deleted for reset');
      }
      await applyPlayground(cluster, this.settings, trainee, signal);
    } else {
      if (namespace?.phase === 'Terminating') {
        await cluster.waitForNamespaceGone(username, this.settings.namespaceDeleteTimeoutMs, signal);
      }
      // Apply first: a missing namespace is made, and the kept fittings are put right.
      await applyPlayground(cluster, this.settings, trainee, signal);
      const types = await cluster.purgeNamespace(username, PURGE_KEEPS, signal);
      ctx.log.info({ username, types }, 'namespace purged');
    }
    return { username, reset: true, mode };
  }
}
