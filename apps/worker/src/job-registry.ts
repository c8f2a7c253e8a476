import { QUEUE_OF, type JobName, type QueueName } from '@kup/core';
import { UnrecoverableError } from 'bullmq';
import type { JobProcessor } from './processors/processor.js';

/** The processors of one queue, by job name. */
export type ProcessorTable = Partial<Record<JobName, JobProcessor>>;

/**
 * Checked at boot: every job name the contract puts on `queue` has exactly one processor,
 * and no processor is registered for a name that lives on another queue.
 */
export function checkRegistry(queue: QueueName, table: ProcessorTable): void {
  const expected = (Object.keys(QUEUE_OF) as JobName[]).filter((name) => QUEUE_OF[name] === queue);
  const missing = expected.filter((name) => typeof table[name] !== 'function');
  const stray = Object.keys(table).filter((name) => !expected.includes(name as JobName));
  if (missing.length > 0 || stray.length > 0) {
    throw new Error(
      `job registry of queue "${queue}" is wrong:` +
        (missing.length ? ` no processor for ${missing.join(', ')};` : '') +
        (stray.length ? ` processors for jobs of other queues: ${stray.join(', ')}` : ''),
    );
  }
}

/** One processor for the queue that picks the job's own by name. */
export function dispatch(queue: QueueName, table: ProcessorTable): JobProcessor {
  checkRegistry(queue, table);
  return async (job, token, signal) => {
    const processor = table[job.name as JobName];
    if (!processor) throw new UnrecoverableError(`UNKNOWN_JOB: no processor for job "${job.name}" on queue "${queue}"`);
    return processor(job, token, signal);
  };
}
