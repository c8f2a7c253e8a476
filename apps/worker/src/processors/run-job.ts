import { DelayedError, type Job, type Worker } from 'bullmq';
import { LOCKED, LockLostError, describeError, jobLogFields, newLockToken, retryFollows, runAttempt, type LockLoss, type Logger, type UserLock } from '@kup/core';
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

/**
 * The signal of one attempt, for its steps (`stepContext`) and upstream calls: BullMQ's own
 * (aborted when the worker lost the job's lock, see `stopOnLostJobLocks`) merged with the
 * loss of a trainee lock the attempt works under (aborted by runJob). Made by the processor
 * before it builds the attempt's context, and handed to runJob.
 */
export class AttemptSignal {
  private readonly lost = new AbortController();
  readonly signal: AbortSignal;

  constructor(job: AbortSignal | undefined) {
    this.signal = job ? AbortSignal.any([job, this.lost.signal]) : this.lost.signal;
  }

  /** Stops the attempt at its next step or upstream call; the first reason stays. */
  abort(reason: LockLostError): void {
    this.lost.abort(reason);
  }

  /** Why the attempt was stopped, as the failure it ends with; undefined while it may go on. */
  interruption(): LockLostError | undefined {
    if (!this.signal.aborted) return undefined;
    const reason: unknown = this.signal.reason;
    return reason instanceof LockLostError ? reason : new LockLostError("the job's lock");
  }
}

/**
 * BullMQ only reports a job lock it could not renew (the job may be running elsewhere now,
 * as stalled): this stops that job's attempt, through the signal BullMQ gave its processor.
 */
export function stopOnLostJobLocks(worker: Pick<Worker, 'on' | 'cancelJob'>): void {
  worker.on('lockRenewalFailed', (jobIds) => {
    for (const jobId of jobIds) worker.cancelJob(jobId, 'job lock lost');
  });
}

/** Whether BullMQ will give this job another attempt after this failure. */
export function willRetry(job: Job, error: unknown): boolean {
  return retryFollows({ made: job.attemptsMade, allowed: job.opts.attempts ?? 1 }, error);
}

export interface RunJobOptions<T> {
  job: Job;
  token: string | undefined;
  /** The users the job works on; all are locked (holder: this attempt) for its whole run. */
  usernames: readonly string[];
  locks: UserLocks;
  log: Logger;
  /** The signal `work` runs under (its steps' context was made with it); aborted when a lock is lost. */
  attempt?: AttemptSignal;
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
 * or undo), and turns a failure into what BullMQ records (`jobFailure`). A lock lost
 * meanwhile (a trainee's, or BullMQ's on the job) aborts `attempt`: the work stops at its
 * next step and the attempt fails `USER_BUSY`, retried and never undone (`LockLostError`),
 * even when the work got to its end.
 */
export async function runJob<T>(options: RunJobOptions<T>): Promise<T> {
  const { job, token, locks, log } = options;
  const stopper = options.attempt ?? new AttemptSignal(undefined);
  // This attempt's own: a re-run of the job must not pass for the holder of an earlier
  // attempt's lock, which may still be running (cut off from Redis) under it.
  const holder = `${job.id}:${newLockToken()}`;
  const usernames = [...new Set(options.usernames)].sort();
  stopper.signal.addEventListener('abort', () => log.warn({ reason: describeError(stopper.interruption()).message }, 'lock lost: stopping this attempt'), { once: true });
  const lost = (username: string) => (why: LockLoss) => {
    const what = why === 'not-ours' ? 'taken or expired' : 'not renewed in time';
    stopper.abort(new LockLostError(`the lock on trainee "${username}" (${what})`));
  };

  const guarded = async (index: number): Promise<T | typeof LOCKED> => {
    const username = usernames[index];
    if (username === undefined) return attempt();
    return locks.withLock(username, holder, () => guarded(index + 1), { onLost: lost(username) });
  };

  const work = async (): Promise<T> => {
    let result: T;
    try {
      result = await options.work();
    } catch (error) {
      throw stopper.interruption() ?? error;
    }
    // Done, but maybe not alone: another run may have worked on the same trainee meanwhile.
    const interrupted = stopper.interruption();
    if (interrupted) throw interrupted;
    return result;
  };

  const attempt = async (): Promise<T> => {
    try {
      return await runAttempt({
        count: { made: job.attemptsMade, allowed: job.opts.attempts ?? 1, stalled: job.stalledCounter },
        log,
        work,
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

/**
 * `runJob` for a job on one trainee: that trainee locked, `work` given a log naming the job
 * and the trainee (and `logFields`, after the trainee), and the attempt's signal (BullMQ's
 * `signal` and the locks').
 */
export function runTraineeJob<T>(
  deps: TraineeJobDeps,
  job: Job,
  token: string | undefined,
  signal: AbortSignal | undefined,
  username: string,
  work: (log: Logger, signal: AbortSignal) => Promise<T>,
  logFields: Record<string, unknown> = {},
): Promise<T> {
  const log = deps.log.child({ jobId: job.id, username, ...logFields, attempt: job.attemptsMade + 1, ...jobLogFields(job) });
  const attempt = new AttemptSignal(signal);
  return runJob({ job, token, usernames: [username], locks: deps.locks, log, stallLimit: deps.stallLimit, attempt, work: () => work(log, attempt.signal) });
}
