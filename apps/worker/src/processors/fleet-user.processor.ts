import type { Job, Queue } from 'bullmq';
import {
  cleanupJobState,
  cleanupUserData,
  resetJobState,
  syncJobState,
  JOBS,
  resetUserData,
  secretKeyOf,
  syncUserData,
  type CleanupState,
  type CleanupUserService,
  type Logger,
  type ResetState,
  type ResetUserService,
  type SecretStore,
  type SyncState,
  type SyncUserService,
  type UserLock,
  wouldRollBack,
} from '@kup/core';
import { checkedData, stepContext } from './job-context.js';
import type { ExpiryJobs, JobProcessor } from './processor.js';
import type { ProcessorTable } from '../job-registry.js';
import { runTraineeJob, type TraineeJobDeps } from './run-job.js';

export interface FleetUserProcessorDeps {
  reset: Pick<ResetUserService, 'reset'>;
  cleanup: Pick<CleanupUserService, 'cleanup'>;
  sync: Pick<SyncUserService, 'sync'>;
  secrets: Pick<SecretStore, 'putIfAbsent' | 'touch' | 'remove'>;
  locks: UserLock;
  log: Logger;
  /** Sync re-creates a trainee's missing expire job, cleanup removes the one of a trainee it deleted (trainees/expiry-scheduler.ts). */
  expiry?: Pick<ExpiryJobs, 'ensure' | 'isMissing' | 'cancel'>;
}

/**
 * The children of fleet runs, one trainee each, on `QUEUES.fleetUser`. Each holds the
 * trainee's lock (a create or delete of the same user waits, and so does it), is retried
 * on its own, and fails as `CODE: message`, which its parent reports per user.
 */
export function fleetUserProcessors(deps: FleetUserProcessorDeps): ProcessorTable {
  // No stall limit of the runner's: a child has no undo to run, so BullMQ's own maxStalledCount (fleet-workers.ts, no margin) fails it.
  const trainee: TraineeJobDeps = { locks: deps.locks, log: deps.log, stallLimit: undefined };
  // `work` gets the attempt's signal (BullMQ's and the trainee lock's) for its steps; the log names the child's run (parentId).
  const run = <T>(job: Job, token: string | undefined, signal: AbortSignal | undefined, username: string, work: (log: Logger, signal: AbortSignal) => Promise<T>) =>
    runTraineeJob(trainee, job, token, signal, username, work, { parentId: job.parent?.id });

  const reset: JobProcessor = (job, token, signal) => {
    const { runId, username, mode, listed } = checkedData(job, resetUserData, resetJobState);
    return run(job, token, signal, username, (log, held) =>
      deps.reset.reset(username, mode, stepContext<ResetState>(job, deps.secrets as SecretStore, log, held), { runId, listed }),
    );
  };

  const cleanup: JobProcessor = (job, token, signal) => {
    const { username, now, maxAgeDays, dryRun } = checkedData(job, cleanupUserData, cleanupJobState);
    return run(job, token, signal, username, async (log, held) => {
      const result = await deps.cleanup.cleanup(username, { now, maxAgeDays, dryRun }, stepContext<CleanupState>(job, deps.secrets as SecretStore, log, held));
      if (result.deleted && !result.dryRun && (await deps.expiry?.cancel?.(username))) log.info('expire job removed');
      return result;
    });
  };

  const sync: JobProcessor = (job, token, signal) => {
    const { username, resetPasswords, dryRun, listed } = checkedData(job, syncUserData, syncJobState);
    return run(job, token, signal, username, async (log, held) => {
      const context = stepContext<SyncState>(job, deps.secrets as SecretStore, log, held);
      if (dryRun) {
        // Reads only: no password is sealed, no expire job added (a real sync adds one only to a user it did not fail on).
        const found = await deps.sync.sync(username, context, { resetPasswords: resetPasswords === true, dryRun: true, listed });
        if (found.skipped || found.error || wouldRollBack(found) || !(await deps.expiry?.isMissing?.(username))) return found;
        return { ...found, repairs: [...(found.repairs ?? []), 'expiry: expire job missing: it would be added'] };
      }
      const result = await deps.sync.sync(username, context, { resetPasswords: resetPasswords === true });
      // The new password stays readable (GET /jobs/<this id>) for the TTL counted from now.
      if (result.passwordIssued) await deps.secrets.touch(secretKeyOf(job));
      else await deps.secrets.remove(secretKeyOf(job));
      if (!result.skipped && !result.rolledBack && (await deps.expiry?.ensure(username))) log.info('expire job was missing: re-created');
      return result;
    });
  };

  return { [JOBS.resetUser]: reset, [JOBS.cleanupUser]: cleanup, [JOBS.syncUser]: sync };
}

/**
 * Shows a run's progress on its parent (`done` of `total` trainees) each time one of its
 * children ends: the parent itself sleeps in waiting-children meanwhile.
 */
export async function reportParentProgress(child: Job, parents: Pick<Queue, 'getJob'>, log: Logger): Promise<void> {
  const parentId = child.parent?.id;
  if (!parentId) return;
  try {
    const parent = await parents.getJob(parentId);
    if (!parent) return;
    const counts = await parent.getDependenciesCount();
    const done = (counts.processed ?? 0) + (counts.ignored ?? 0) + (counts.failed ?? 0);
    await parent.updateProgress({ step: 'users', done, total: done + (counts.unprocessed ?? 0) });
  } catch (error) {
    log.debug({ parentId, err: error instanceof Error ? error.message : String(error) }, 'parent progress not updated');
  }
}
