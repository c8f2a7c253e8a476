import { DelayedError, RateLimitError, UnrecoverableError, WaitingChildrenError, WaitingError, type Job } from 'bullmq';
import { describeError, failedReasonOf, isRetryable, type JobFailureData } from '@kup/core';
import type { JobProcessor } from './processor.js';

/** The structured failure carried by the error an attempt ends with (see `jobFailure`). */
const FAILURE = Symbol('kup.failure');
type FailedAttempt = Error & { [FAILURE]: JobFailureData };

/**
 * The error a failed attempt ends with. Its message is `CODE: message`, which BullMQ stores
 * as `failedReason` for people reading Bull Board; the API reads the structured copy that
 * `reportFailures` stores in `data.failure`. Permanent failures are BullMQ's
 * `UnrecoverableError`, so no retry is spent on them.
 */
export function jobFailure(error: unknown): Error {
  if (isFailedAttempt(error)) return error;
  const failure = describeError(error);
  const text = failedReasonOf(failure);
  const made = isRetryable(error) ? new Error(text, { cause: error }) : new UnrecoverableError(text);
  return Object.assign(made, { [FAILURE]: failure });
}

function isFailedAttempt(error: unknown): error is FailedAttempt {
  return error instanceof Error && FAILURE in error;
}

/** BullMQ's signals to move a job elsewhere (delayed, waiting for children…): not failures. */
function isControlSignal(error: unknown): boolean {
  return error instanceof DelayedError || error instanceof WaitingChildrenError || error instanceof WaitingError || error instanceof RateLimitError;
}

/**
 * Wraps a processor so that every failed attempt, whatever threw, stores its
 * `{code, message}` in the job's data (`data.failure`) before BullMQ records it: the data
 * outlives the attempt and is what the API reports. A later attempt that fails overwrites
 * it; the API trusts it only while it matches `failedReason` (a job BullMQ failed itself,
 * e.g. stalled too often, has a reason of its own).
 */
export function reportFailures(processor: JobProcessor): JobProcessor {
  return async (job, token, signal) => {
    try {
      return await processor(job, token, signal);
    } catch (error) {
      if (isControlSignal(error)) throw error;
      const failed = jobFailure(error) as FailedAttempt;
      await storeFailure(job, failed[FAILURE]);
      throw failed;
    }
  };
}

async function storeFailure(job: Job, failure: JobFailureData): Promise<void> {
  try {
    await job.updateData({ ...job.data, failure });
  } catch {
    // The job is gone or Redis is down: its failedReason still says the same, and the API
    // falls back to it.
  }
}
