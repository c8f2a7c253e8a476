import type { Job, QueueEvents } from 'bullmq';
import type { QueueName } from '@kup/core';

export interface JobWaiterDeps {
  /** The QueueEvents of a queue (created on first use). */
  events(queue: QueueName): QueueEvents;
  /** Whether the job has ended (completed or failed); re-read from Redis. */
  isFinished(queue: QueueName, id: string): Promise<boolean>;
}

/**
 * Resolves (false) when the signal aborts: the caller stops waiting at once. One listener for
 * the whole wait (not one per slice: a long `Prefer: wait` would pass EventTarget's limit and
 * print MaxListenersExceededWarning), removed by `done` when the wait ends another way.
 */
function abortedOf(signal: AbortSignal): { aborted: Promise<false>; done: () => void } {
  let done = (): void => undefined;
  const aborted = new Promise<false>((resolve) => {
    if (signal.aborted) return resolve(false);
    const onAbort = (): void => resolve(false);
    signal.addEventListener('abort', onAbort, { once: true });
    done = () => signal.removeEventListener('abort', onAbort);
  });
  return { aborted, done };
}

/** A missed event costs at most this long: the job's state is re-read after each slice. */
const SLICE_MS = 2_000;

/**
 * Holds a `Prefer: wait` request until its job ends or time runs out. Listens to the
 * queue's events (`waitUntilFinished`) in short slices and re-reads the job's state after
 * each, so a missed event costs a slice, not the whole wait.
 */
export class JobWaiter {
  constructor(private readonly deps: JobWaiterDeps) {}

  /** Returns early, without error, when `signal` aborts (client gone, server stopping). */
  async waitForEnd(queue: QueueName, job: Job, ms: number, signal?: AbortSignal): Promise<void> {
    const id = job.id;
    if (!id) return;
    const deadline = Date.now() + ms;
    const abort = signal ? abortedOf(signal) : undefined;
    try {
      for (let left = ms; left > 0 && !signal?.aborted; left = deadline - Date.now()) {
        const slice = job.waitUntilFinished(this.deps.events(queue), Math.min(left, SLICE_MS)).then(
          () => true,
          () => false, // failed, or the slice ran out: the state below tells which
        );
        const ended = await (abort ? Promise.race([slice, abort.aborted]) : slice);
        if (signal?.aborted) return;
        if (ended || (await this.deps.isFinished(queue, id))) return;
      }
    } finally {
      abort?.done();
    }
  }
}
