import { deletePlayground, type DeleteDeps } from '../provisioning/delete-playground.js';
import { deleteBegun, type DeleteState, type StepContext } from '../provisioning/step-context.js';
import type { CleanupUserResult } from '../queue/fleet-contract.js';
import { cleanupReason } from './fleet-context.js';

/** Kept between attempts: the verdict, so a retry after the delete still reports it. */
export interface CleanupState extends DeleteState {
  userId?: string;
  reason?: 'age' | 'expired';
}

export interface CleanupOptions {
  now: number;
  maxAgeDays: number;
  dryRun: boolean;
}

/**
 * Deletes one trainee completely when cleanup applies to them (created `maxAgeDays` or
 * more before the run, or past `expires-at`), through the same delete a
 * `DELETE /provisioner` runs. The verdict is taken again here, not only in the listing:
 * the user may have been re-created since. A dry run only reports.
 */
export class CleanupUserService {
  constructor(private readonly deps: DeleteDeps) {}

  async cleanup(username: string, options: CleanupOptions, ctx: StepContext<CleanupState>): Promise<CleanupUserResult> {
    const { dryRun } = options;
    const earlier = ctx.state.get();
    const user = await this.deps.identity.findUser(username, ctx.signal);
    // Until something is removed, a retry of the same user decides again: a trainer may have
    // extended the expiry during the backoff. Once something is, the delete is finished.
    const begun = deleteBegun(earlier);

    if (!earlier.reason || (!begun && user !== undefined && user.id === earlier.userId)) {
      if (!user || !user.managed) return { username, userId: null, deleted: false, dryRun, skipped: 'no managed user of that name' };
      const reason = cleanupReason(user, options.now, options.maxAgeDays);
      if (!reason) return { username, userId: user.id, deleted: false, dryRun, skipped: 'neither old nor expired' };
      if (dryRun) return { username, userId: user.id, deleted: false, dryRun, reason };
      if (reason !== earlier.reason) await ctx.state.patch({ userId: user.id, reason });
    }
    const { reason, userId } = ctx.state.get();
    // An earlier attempt chose this user; if it has been re-made since (another id), it is not ours.
    if (user && user.id !== userId) return { username, userId: userId ?? null, deleted: true, dryRun, ...(reason ? { reason } : {}) };
    await deletePlayground(this.deps, { usernames: [username] }, ctx);
    ctx.log.info({ username, reason }, 'trainee deleted by cleanup');
    return { username, userId: userId ?? null, deleted: true, dryRun, ...(reason ? { reason } : {}) };
  }
}
