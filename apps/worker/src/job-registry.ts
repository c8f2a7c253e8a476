import { ProvisionerError, QUEUE_OF, SpanKind, inSpan, jobParentContext, requestScope, type JobName, type QueueName, type TracedJobData } from '@kup/core';
import { reportFailures } from './processors/job-failure.js';
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

/**
 * One processor for the queue that picks the job's own by name. Each attempt runs in a
 * consumer span continuing the trace its producer put in the job's data, and in the
 * request scope of the request that asked for it: jobs it adds in turn (fleet children)
 * carry both on.
 */
export function dispatch(queue: QueueName, table: ProcessorTable): JobProcessor {
  checkRegistry(queue, table);
  return reportFailures(async (job, token, signal) => {
    const requestId = (job.data as TracedJobData | undefined)?.requestId;
    const attributes = {
      'messaging.system': 'bullmq', 'messaging.operation.type': 'process', 'messaging.destination.name': queue,
      'messaging.message.id': job.id ?? '', 'kup.job.name': job.name, 'kup.job.attempt': job.attemptsMade + 1,
      ...(typeof requestId === 'string' ? { 'kup.request_id': requestId } : {}),
    };
    const run = () =>
      inSpan(`process ${queue}`, { kind: SpanKind.CONSUMER, parent: jobParentContext(job.data), attributes }, async () => {
        const processor = table[job.name as JobName];
        if (!processor) throw new ProvisionerError('UNKNOWN_JOB', `no processor for job "${job.name}" on queue "${queue}"`);
        return processor(job, token, signal);
      });
    return typeof requestId === 'string' ? requestScope.run({ requestId }, run) : run();
  });
}
