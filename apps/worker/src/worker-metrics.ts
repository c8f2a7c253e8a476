import { Queue, type Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { FLEET_SCHEDULES_QUEUE, QUEUES, WEBHOOKS_QUEUE, countJobs, enableProcessMetrics, observeWorkers, type Logger } from '@kup/core';
import { HealthServer } from './health-server.js';

export interface WorkerHealthDeps {
  redis: Redis;
  /** Every BullMQ worker of the process: their events feed the job counters. */
  workers: readonly Worker[];
  logger: Logger;
}

export interface WorkerHealth {
  readonly server: HealthServer;
  start(): Promise<void>;
  /** `/readyz` answers 503 from now on. */
  markClosing(): void;
  close(): Promise<void>;
}

const PING_TIMEOUT_MS = 1_000;

/**
 * The worker's health port and metrics: job counters hooked to the workers' events,
 * `kup_jobs{queue,state}` read from Redis on each scrape, Node's process metrics.
 */
export function createWorkerHealth(
  config: { QUEUE_PREFIX: string; WORKER_HEALTH_PORT: number; WORKER_METRICS_TOKEN?: readonly string[] | undefined },
  deps: WorkerHealthDeps): WorkerHealth {
  const { redis, workers, logger } = deps;
  enableProcessMetrics();
  observeWorkers(workers);
  const queues = [...Object.values(QUEUES), FLEET_SCHEDULES_QUEUE, WEBHOOKS_QUEUE].map((name) => {
    const queue = new Queue(name, { connection: redis, prefix: config.QUEUE_PREFIX });
    queue.on('error', (error) => logger.warn({ err: error.message, queue: name }, 'queue error'));
    return queue;
  });
  let stopCounting: (() => void) | undefined;

  const server = new HealthServer({
    port: config.WORKER_HEALTH_PORT,
    metricsTokens: config.WORKER_METRICS_TOKEN,
    logger,
    workersRunning: () => workers.length > 0 && workers.every((worker) => worker.isRunning()),
    redisReady: async () => {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), PING_TIMEOUT_MS)));
      const pong = redis.ping().then((answer) => answer === 'PONG', () => false);
      const ready = await Promise.race([pong, timeout]);
      clearTimeout(timer);
      return ready;
    },
  });

  return {
    server,
    async start() {
      stopCounting = countJobs(queues);
      await server.start();
    },
    markClosing: () => server.markClosing(),
    async close() {
      stopCounting?.();
      await server.close();
      await Promise.allSettled(queues.map((queue) => queue.close()));
    },
  };
}
