import { DelayedError, type Job } from 'bullmq';
import { LOCKED, ProvisionerError, describeError, isRetryable, type Logger, type UserLock } from '@kup/core';
import { jobFailure } from './job-failure.js';

export type UserLocks = Pick<UserLock, 'withLock'>;

/** How long a job waits before trying again when another job holds its user. */
export const LOCK_RETRY_DELAY_MS = 2_000;

/**
 * Tries of the final-failure clean-up, `ROLLBACK_BASE_DELAY_MS` apart and doubling. The
 * clean-up crosses the same network that just failed the job, and a user it leaves behind
 * stays half-made until a sync run finishes or removes it.
 */
export const ROLLBACK_TRIES = 5;
export const ROLLBACK_BASE_DELAY_MS = 1_000;

/**
 * BullMQ's own stall limit is set this far above the worker's (`WORKER_MAX_STALLED_COUNT`):
 * BullMQ fails a job over its limit without running the processor, so without a margin the
 * final-failure clean-up would never run. `runJob` enforces the worker's limit itself, and
 * the margin leaves the clean-up run a couple of interruptions of its own.
 */
export const BULLMQ_STALL_MARGIN = 2;

/** A job interrupted too often (e.g. it kills its worker every time): it fails, cleaned up. */
export class StalledTooOftenError extends ProvisionerError {
  constructor(times: number) {
    super('STALLED', `the job was interrupted ${times} times (its worker stopped or was killed mid-job); it will not run again`);
  }
}

/** Whether BullMQ will give this job another attempt after this failure. */
export function willRetry(job: Job, error: unknown): boolean {
  return isRetryable(error) && job.attemptsMade + 1 < (job.opts.attempts ?? 1);
}

export interface RunJobOptions<T> {
  job: Job;
  token: string | undefined;
  /** The users the job works on; all are locked (holder = job id) for its whole run. */
  usernames: readonly string[];
  locks: UserLocks;
  log: Logger;
  work: () => Promise<T>;
  /**
   * Runs under the locks when the job fails for good; must be idempotent: it is tried up
   * to `ROLLBACK_TRIES` times, then its error is logged and the job fails with its own.
   */
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
 * Runs a job's work holding its users' locks. Busy users → the job is delayed (no attempt
 * spent); failures → rethrown through `jobFailure`, after the final-failure hook if no retry
 * will follow.
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
      if (options.stallLimit !== undefined && job.stalledCounter >= options.stallLimit) throw new StalledTooOftenError(job.stalledCounter);
      return await options.work();
    } catch (error) {
      const retry = willRetry(job, error);
      const { code, message } = describeError(error);
      log[retry ? 'warn' : 'error']({ code, errorMessage: message, attemptsMade: job.attemptsMade, retry }, 'attempt failed');
      if (!retry && options.onFinalFailure) await cleanUp(options, error);
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

async function cleanUp<T>(options: RunJobOptions<T>, error: unknown): Promise<void> {
  const base = options.rollbackBaseDelayMs ?? ROLLBACK_BASE_DELAY_MS;
  for (let tries = 1; ; tries++) {
    try {
      await options.onFinalFailure?.(error);
      return;
    } catch (rollbackError) {
      const last = tries >= ROLLBACK_TRIES;
      options.log[last ? 'error' : 'warn']({ rollback: describeError(rollbackError), tries }, last ? 'clean-up after the failure failed: left for sync' : 'clean-up after the failure failed: trying again');
      if (last) return;
      await new Promise((resolve) => setTimeout(resolve, base * 2 ** (tries - 1)));
    }
  }
}
