import { ProvisionerError, describeError, isRetryable } from '../errors.js';
import type { Logger } from '../logging/logger.js';

/**
 * Tries of the final-failure clean-up, `ROLLBACK_BASE_DELAY_MS` apart and doubling. The
 * clean-up crosses the same network that just failed the job, and a user it leaves behind
 * stays half-made until a sync run finishes or removes it.
 */
export const ROLLBACK_TRIES = 5;
export const ROLLBACK_BASE_DELAY_MS = 1_000;

/** A job interrupted too often (e.g. it kills its worker every time): it fails, cleaned up. */
export class StalledTooOftenError extends ProvisionerError {
  constructor(times: number) {
    super('STALLED', `the job was interrupted ${times} times (its worker stopped or was killed mid-job); it will not run again`);
  }
}

/**
 * The attempt lost a lock it worked under (its trainee's, or the queue's on the job), so
 * another run may be at work on the same trainee: it stopped, and is retried. It is never
 * undone, even as the last attempt: what it made may be that other run's now.
 */
export class LockLostError extends ProvisionerError {
  constructor(what: string) {
    super('USER_BUSY', `lost ${what} while working: another run may be at it now; this attempt stopped`, { retryable: true });
  }
}

/** Where a job stands among its attempts, as the queue counts them. */
export interface AttemptCount {
  /** Attempts already ended before this one. */
  made: number;
  /** Attempts the job may have in all. */
  allowed: number;
  /** Times the job was interrupted (its worker killed) and run again. */
  stalled: number;
}

/** Whether another attempt follows this failure: only a retryable one, while attempts are left. */
export function retryFollows(count: Pick<AttemptCount, 'made' | 'allowed'>, error: unknown): boolean {
  return isRetryable(error) && count.made + 1 < count.allowed;
}

export interface AttemptOptions<T> {
  count: AttemptCount;
  log: Pick<Logger, 'info' | 'warn' | 'error'>;
  work: () => Promise<T>;
  /**
   * Runs when the job fails for good (the operation's undo); must be idempotent: it is tried
   * up to `ROLLBACK_TRIES` times, then its error is logged and the job fails with its own.
   */
  onFinalFailure?: ((error: unknown) => Promise<void>) | undefined;
  /** Delay before the second clean-up try (tests shorten it). */
  rollbackBaseDelayMs?: number | undefined;
  /** Interruptions after which the work no longer runs: the job fails for good, cleaned up. */
  stallLimit?: number | undefined;
}

/**
 * One attempt of an operation: the decisions that are the domain's, not the queue's. A job
 * interrupted `stallLimit` times fails without running again; a failure is logged and,
 * when no retry will follow, the operation is undone (with tries) before the error is
 * rethrown for the queue to record; an attempt that lost its lock (`LockLostError`) is not.
 */
export async function runAttempt<T>(options: AttemptOptions<T>): Promise<T> {
  const { count, log } = options;
  try {
    if (options.stallLimit !== undefined && count.stalled >= options.stallLimit) throw new StalledTooOftenError(count.stalled);
    return await options.work();
  } catch (error) {
    const retry = retryFollows(count, error);
    const { code, message } = describeError(error);
    log[retry ? 'warn' : 'error']({ code, errorMessage: message, attemptsMade: count.made, retry }, 'attempt failed');
    if (!retry && options.onFinalFailure && !(error instanceof LockLostError)) await undoWithTries(options, error);
    throw error;
  }
}

async function undoWithTries<T>(options: AttemptOptions<T>, error: unknown): Promise<void> {
  const base = options.rollbackBaseDelayMs ?? ROLLBACK_BASE_DELAY_MS;
  for (let tries = 1; ; tries++) {
    try {
      await options.onFinalFailure?.(error);
      return;
    } catch (rollbackError) {
      const last = tries >= ROLLBACK_TRIES;
      options.log[last ? 'error' : 'warn'](
        { rollback: describeError(rollbackError), tries },
        last ? 'clean-up after the failure failed: left for sync' : 'clean-up after the failure failed: trying again',
      );
      if (last) return;
      // Back-off between tries of an upstream call, not a synchronisation.
      await new Promise((resolve) => setTimeout(resolve, base * 2 ** (tries - 1)));
    }
  }
}
