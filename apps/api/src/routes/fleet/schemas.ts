import { z } from 'zod';
import { cleanupRequest, cleanupRunResult, resetRequest, resetRunResult, syncRequest, syncRunResult } from '@kup/core';

/** Bodies are optional: the old CronJobs POST `Content-Type: application/json` with no body. */
export const resetBody = resetRequest.nullish().meta({ id: 'ResetRequest' });
export const cleanupBody = cleanupRequest.nullish().meta({ id: 'CleanupRequest' });
export const syncBody = syncRequest.nullish().meta({ id: 'SyncRequest', examples: [{ username: 'jean-dupont' }, { dryRun: true }] });

export const fleetAccepted = z
  .object({
    jobId: z.string(),
    statusUrl: z.string().describe('GET it for the run\'s state, progress (users done of total) and result.'),
    alreadyPending: z.boolean().describe('The same run (same id, same request) was already pending: it is answered, no second one starts. One pending under the id for a different request is a 409 `DIFFERENT_RUN_PENDING` instead.'),
  })
  .meta({ id: 'FleetAccepted' });

const withJobId = { jobId: z.string() };
/** `Prefer: wait` answers: the old statistics, with `jobId` added. */
export const resetDone = resetRunResult.extend(withJobId).meta({ id: 'ResetResult' });
export const cleanupDone = cleanupRunResult.extend(withJobId).meta({ id: 'CleanupResult' });
export const syncDone = syncRunResult.extend(withJobId).meta({
  id: 'SyncResult',
  examples: [
    {
      message: 'Dry run: 1 users would be repaired; nothing changed',
      summary: 'Dry run: 1 users would be repaired; nothing changed (2 users checked)',
      results: {
        total_users: 2,
        fixed_users: [],
        failed_fixes: [],
        would_repair: [{ username: 'jean-dupont', repairs: ['ResourceQuota/resource-limits: missing: it would be applied'] }],
      },
      dry_run: true,
      jobId: 'sync.dry-run',
    },
  ],
});

export const fleetFailed = z.object({ message: z.string(), code: z.string().optional(), jobId: z.string() }).meta({ id: 'FleetFailed' });
