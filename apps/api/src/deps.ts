import { Queue, QueueEvents } from 'bullmq';
import type { Redis } from 'ioredis';
import { QUEUES, Sealer, createRedisClient, SecretStore, type ApiEnv, type Logger, type QueueName } from '@kup/core';

/** What the API needs from the outside world; built once by `createApiDeps`, closed by its owner. */
export interface ApiDeps {
  logger: Logger;
  /** The producer connection: fails fast (no offline queue) when Redis is down. */
  redis: Redis;
  queues: Record<QueueName, Queue>;
  /** The QueueEvents of a queue, opened on first use (only `Prefer: wait` needs them). */
  events(queue: QueueName): QueueEvents;
  secrets: SecretStore;
  close(): Promise<void>;
}

/** Logs a noisy emitter's errors at most once per interval (Redis down → one error per retry). */
function throttledErrorLog(logger: Logger, what: string, intervalMs = 30_000) {
  let last = 0;
  return (error: Error) => {
    if (Date.now() - last < intervalMs) return;
    last = Date.now();
    logger.warn({ err: error.message, source: what }, `${what} error`);
  };
}

export function createApiDeps(config: ApiEnv, logger: Logger): ApiDeps {
  const redis = createRedisClient(config, {
    // No auto-pipelining: each auto-pipelined flush builds an ioredis Pipeline, which copies every
    // script BullMQ defines on the connection (64) onto itself, about 90 µs each. The creates of one
    // turn are sent in one write by JobSubmitter instead (docs/benchmarks.md, P1).
    enableAutoPipelining: false,
    enableOfflineQueue: false,
    connectTimeout: 2_000,
    maxRetriesPerRequest: 1,
    retryStrategy: (times) => Math.min(200 * times, 2_000),
  });
  redis.on('error', throttledErrorLog(logger, 'redis'));

  const queues = Object.fromEntries(
    Object.values(QUEUES).map((name) => {
      const queue = new Queue(name, { connection: redis, prefix: config.QUEUE_PREFIX });
      queue.on('error', throttledErrorLog(logger, `queue ${name}`));
      return [name, queue];
    }),
  ) as Record<QueueName, Queue>;

  const events = new Map<QueueName, QueueEvents>();
  // QueueEvents block on Redis: each has its own client (REDIS_URL, Sentinel or Cluster).
  const eventClients: Redis[] = [];
  const eventsOf = (name: QueueName): QueueEvents => {
    let queueEvents = events.get(name);
    if (!queueEvents) {
      const client = createRedisClient(config, { connectTimeout: 2_000, maxRetriesPerRequest: null });
      client.on('error', throttledErrorLog(logger, `queue events ${name} redis`));
      eventClients.push(client);
      queueEvents = new QueueEvents(name, { connection: client, prefix: config.QUEUE_PREFIX });
      queueEvents.on('error', throttledErrorLog(logger, `queue events ${name}`));
      events.set(name, queueEvents);
    }
    return queueEvents;
  };

  const secrets = new SecretStore(redis, Sealer.fromEncodedKey(config.RESULT_ENCRYPTION_KEY), config.QUEUE_PREFIX, config.PASSWORD_TTL_SECONDS);

  return {
    logger,
    redis,
    queues,
    events: eventsOf,
    secrets,
    async close() {
      await Promise.allSettled([...events.values()].map((queueEvents) => queueEvents.close()));
      for (const client of eventClients) client.disconnect();
      await Promise.allSettled(Object.values(queues).map((queue) => queue.close()));
      if (redis.status === 'ready') await redis.quit().catch(() => redis.disconnect());
      else redis.disconnect();
    },
  };
}
