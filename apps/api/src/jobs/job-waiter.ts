import type { Job, QueueEvents } from 'bullmq';
import type { QueueName } from '@kup/core';

export interface JobWaiterDeps {
  /** The QueueEvents of a queue (created on first use). */
  events(queue: QueueName): QueueEvents;
  /** Whether the job has ended (completed or failed); re-read from Redis. */
  isFinished(queue: QueueName, id: string): Promise<boolean>;
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

  async waitForEnd(queue: QueueName, job: Job, ms: number, signal?: AbortSignal): Promise<void> {
    const id = job.id;
    if (!id) return;
    const deadline = Date.now() + ms;
    for (let left = ms; left > 0 && !signal?.aborted; left = deadline - Date.now()) {
      const ended = await job.waitUntilFinished(this.deps.events(queue), Math.min(left, SLICE_MS)).then(
        () => true,
        () => false, // failed, or the slice ran out: the state below tells which
      );
      if (ended || (await this.deps.isFinished(queue, id))) return;
    }
  }
}
