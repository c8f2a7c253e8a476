import { DelayedError, type Job } from 'bullmq';
import { LOCKED, jobLogFields, retryFollows, runAttempt, type Logger, type UserLock } from '@kup/core';
import { jobFailure } from './job-failure.js';

export { ROLLBACK_BASE_DELAY_MS, ROLLBACK_TRIES, StalledTooOftenError } from '@kup/core';

export type UserLocks = Pick<UserLock, 'withLock'>;

/** How long a job waits before trying again when another job holds its user. */
export const LOCK_RETRY_DELAY_MS = 2_000;

/**
 * BullMQ's own stall limit is set this far above the worker's (`WORKER_MAX_STALLED_COUNT`):
 * BullMQ fails a job over its limit without running the processor, so without a margin the
 * final-failure clean-up would never run. The runner (`runAttempt`) enforces the worker's
 * limit itself, and the margin leaves the clean-up run a couple of interruptions of its own.
 */
export const BULLMQ_STALL_MARGIN = 2;

/** Whether BullMQ will give this job another attempt after this failure. */
export function willRetry(job: Job, error: unknown): boolean {
  return retryFollows({ made: job.attemptsMade, allowed: job.opts.attempts ?? 1 }, error);
}

export interface RunJobOptions<T> {
  job: Job;
  token: string | undefined;
  /** The users the job works on; all are locked (holder = job id) for its whole run. */
  usernames: readonly string[];
  locks: UserLocks;
  log: Logger;
  work: () => Promise<T>;
  /** The operation's undo when the job fails for good (see `runAttempt`). */
  onFinalFailure?: (error: unknown) => Promise<void>;
  /** Delay before the second clean-up try (tests shorten it). */
  rollbackBaseDelayMs?: number;
  /**
   * Interruptions (`job.stalledCounter`) after which the job no longer runs its work but
   * fails for good, through the final-failure hook. BullMQ's `maxStalledCount` must be
   * above it (`BULLMQ_STALL_MARGIN`).
   */
  stallLimit?: number;
}

/**
 * The queue's side of a job's attempt: holds its users' locks (busy users → the job is
 * delayed, no attempt spent), runs the attempt through the core runner (stall limit, retry
 * or undo), and turns a failure into what BullMQ records (`jobFailure`).
 */
export async function runJob<T>(options: RunJobOptions<T>): Promise<T> {
  const { job, token, locks, log } = options;
  const holder = job.id as string;
  const usernames = [...new Set(options.usernames)].sort();

  const guarded = async (index: number): Promise<T | typeof LOCKED> => {
    const username = usernames[index];
    if (username === undefined) return attempt();
    return locks.withLock(username, holder, () => guarded(index + 1));
  };

  const attempt = async (): Promise<T> => {
    try {
      return await runAttempt({
        count: { made: job.attemptsMade, allowed: job.opts.attempts ?? 1, stalled: job.stalledCounter },
        log,
        work: options.work,
        onFinalFailure: options.onFinalFailure,
        rollbackBaseDelayMs: options.rollbackBaseDelayMs,
        stallLimit: options.stallLimit,
      });
    } catch (error) {
      throw jobFailure(error);
    }
  };

  const result = await guarded(0);
  if (result === LOCKED) {
    log.info({ usernames }, 'user busy with another job: trying again shortly');
    await job.moveToDelayed(Date.now() + LOCK_RETRY_DELAY_MS, token);
    throw new DelayedError();
  }
  return result;
}

/** What a job on one trainee runs with: the users' locks, the worker's log and stall limit. */
export interface TraineeJobDeps {
  locks: UserLocks;
  log: Logger;
  stallLimit?: number | undefined;
}

/** `runJob` for a job on one trainee: that trainee locked, `work` given a log naming the job and the trainee. */
export function runTraineeJob<T>(deps: TraineeJobDeps, job: Job, token: string | undefined, username: string, work: (log: Logger) => Promise<T>): Promise<T> {
  const log = deps.log.child({ jobId: job.id, username, attempt: job.attemptsMade + 1, ...jobLogFields(job) });
  return runJob({ job, token, usernames: [username], locks: deps.locks, log, stallLimit: deps.stallLimit, work: () => work(log) });
}
