import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Job } from 'bullmq';
import type { QueueName } from '@kup/core';
import type { JobReader } from './job-reader.js';
import type { JobView } from './job-view.js';
import type { JobWaiter } from './job-waiter.js';
import { parsePreferWait } from './prefer-wait.js';

export interface WaitIfAskedDeps {
  reader: Pick<JobReader, 'view'>;
  waiter: Pick<JobWaiter, 'waitForEnd'>;
  /** Longest `Prefer: wait` honoured, in seconds. */
  maxWaitSeconds: number;
  /** A request without `Prefer` waits this long (DEFAULT_PREFER_WAIT_SECONDS; 0: it does not). */
  defaultWaitSeconds?: number | undefined;
  /** Aborts when the server stops: waiting requests answer at once. */
  shutdown: AbortSignal;
}

/**
 * `Prefer: wait=N` on a route that enqueues: holds the request until the job ends, the
 * client goes away or the server stops, then returns the job's view (undefined when no
 * wait was asked, nor made the default). Sets `Vary` and `Preference-Applied`.
 */
export async function waitIfAsked(
  deps: WaitIfAskedDeps,
  request: FastifyRequest,
  reply: FastifyReply,
  queue: QueueName,
  job: Job,
): Promise<JobView | undefined> {
  reply.header('vary', 'Prefer');
  // Old callers send no `Prefer` and expect the synchronous answer: an operator may make that the default.
  const prefer = request.headers.prefer ?? (deps.defaultWaitSeconds ? `wait=${deps.defaultWaitSeconds}` : undefined);
  const seconds = parsePreferWait(prefer, deps.maxWaitSeconds);
  if (seconds === undefined || !job.id) return undefined;
  const gone = new AbortController();
  const onClose = () => gone.abort();
  reply.raw.once('close', onClose);
  try {
    await deps.waiter.waitForEnd(queue, job, seconds * 1000, AbortSignal.any([gone.signal, deps.shutdown]));
  } finally {
    reply.raw.off('close', onClose);
  }
  reply.header('preference-applied', `wait=${seconds}`);
  return deps.reader.view(queue, job.id);
}
