import { Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { QUEUES, describeError, type Logger, type WorkerEnv } from '@kup/core';
import { dispatch } from '../job-registry.js';
import { answerQueries, type QueryAnswerer } from './answer-queries.js';

export interface QueryWorker {
  readonly worker: Worker;
  start(): Promise<void>;
  close(force?: boolean): Promise<void>;
}

/**
 * The worker of `QUEUES.queries`: QUERY_CONCURRENCY reads at once (they hold no user lock
 * and change nothing), each answered by the answerer of its kind.
 */
export function createQueryWorker(
  config: Pick<WorkerEnv, 'QUEUE_PREFIX' | 'QUERY_CONCURRENCY' | 'WORKER_LOCK_DURATION_MS' | 'WORKER_STALLED_INTERVAL_MS'>,
  deps: { redis: Redis; logger: Logger; answerers: readonly QueryAnswerer[] },
): QueryWorker {
  const { logger } = deps;
  const worker = new Worker(QUEUES.queries, dispatch(QUEUES.queries, { query: answerQueries(deps.answerers, logger) }), {
    connection: deps.redis,
    prefix: config.QUEUE_PREFIX,
    concurrency: config.QUERY_CONCURRENCY,
    autorun: false,
    lockDuration: config.WORKER_LOCK_DURATION_MS,
    stalledInterval: config.WORKER_STALLED_INTERVAL_MS,
    // A query interrupted by a dying worker is not worth running again: its caller has given up.
    maxStalledCount: 0,
  });
  worker.on('error', (error) => logger.error({ err: describeError(error), queue: QUEUES.queries }, 'worker error'));
  worker.on('failed', (job, error) => logger.debug({ jobId: job?.id, reason: error.message }, 'query failed'));
  let running: Promise<void> | undefined;
  return {
    worker,
    async start() {
      running = worker.run().catch((error: unknown) => logger.error({ err: describeError(error), queue: QUEUES.queries }, 'worker stopped'));
      await worker.waitUntilReady();
    },
    async close(force = false) {
      await worker.close(force);
      await running;
    },
  };
}
