import type { JobsOptions, Queue } from 'bullmq';
import { DifferentRunPendingError, enqueueFleetRun, fleetRequestSchemas, formatIssues, InvalidInputError, isFleetKind, ProvisionerError, type Logger, type MutexRedis } from '@kup/core';
import { jobFailure } from './job-failure.js';
import type { JobProcessor } from './processor.js';

export interface FleetScheduleProcessorDeps {
  /** The `fleet` queue: the real runs go there. */
  fleet: Queue;
  jobOptions: JobsOptions;
  /** For the replace lock (see enqueueUnique). */
  redis: MutexRedis;
  log: Logger;
}

/**
 * A scheduler fired (`reset`, `cleanup` or `sync` on the schedules queue): enqueue the run
 * through the same function the API uses, so a run of that kind still pending (manual or
 * scheduled) is not doubled: the firing is skipped, also when the pending run was asked
 * differently (another mode, a dry run).
 */
export function fleetScheduleProcessor(deps: FleetScheduleProcessorDeps): JobProcessor {
  return async (job) => {
    const kind = job.name;
    if (!isFleetKind(kind)) throw jobFailure(new ProvisionerError('UNKNOWN_JOB', `no fleet run named "${kind}"`));
    const request = fleetRequestSchemas[kind].safeParse(job.data ?? {});
    if (!request.success) throw jobFailure(new InvalidInputError(formatIssues(request.error)));
    // The scheduled sync repairs: a template edited to a dry run fails loudly rather than run either way.
    if (kind === 'sync' && 'dryRun' in request.data && request.data.dryRun) throw jobFailure(new InvalidInputError('a scheduled sync is never a dry run: call POST /sync {"dryRun": true}'));
    let enqueued: Awaited<ReturnType<typeof enqueueFleetRun>>;
    try {
      enqueued = await enqueueFleetRun(deps.fleet, kind, request.data, { origin: 'schedule', jobOptions: deps.jobOptions, redis: deps.redis });
    } catch (error) {
      // A run under the same id is pending for another request (a manual purge, a dry run…):
      // the firing is skipped, as when the same run is pending (`Forbid`), and says why.
      if (!(error instanceof DifferentRunPendingError)) throw error;
      deps.log.info({ kind, runJobId: error.jobId, differences: error.differences }, 'scheduled run skipped: a different run is still pending');
      return { runJobId: error.jobId, created: false, skipped: error.message };
    }
    const { job: run, created } = enqueued;
    deps.log.info({ kind, runJobId: run.id, created }, created ? 'scheduled run enqueued' : 'scheduled run skipped: one is still pending');
    return { runJobId: run.id, created };
  };
}
