import { randomBytes } from 'node:crypto';
import { Worker, type Job, type Processor } from 'bullmq';
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import { createLogger, loadApiConfig, QUEUES, type ApiEnv } from '@kup/core';
import { randomSuffix as hex, uniquePrefix } from '../../../test/helpers/names.js';
import { eventually } from '../../../test/helpers/poll.js';
import { buildApp, createApiDeps, type ApiDeps } from '../src/index.js';

export { randomSuffix as hex } from '../../../test/helpers/names.js';

export interface TestApp {
  app: FastifyInstance;
  deps: ApiDeps;
  config: ApiEnv;
  /** Two valid tokens (rotation). */
  tokens: [string, string];
  /** Every log line the app wrote. */
  logs: string[];
  /** `Authorization` header with a valid token. */
  auth: { authorization: string };
  inject(options: InjectOptions): Promise<LightMyRequestResponse>;
  /** A fake worker on this app's queues; the processor decides the outcome. */
  startWorker(processor: Processor): Worker;
  jobCount(): Promise<number>;
  close(): Promise<void>;
}

/**
 * The API built as in production, against the stack's Redis, with its own queue prefix,
 * tokens and encryption key, and its logs captured.
 */
export async function buildTestApp(env: Record<string, string> = {}): Promise<TestApp> {
  const tokens: [string, string] = [`tok-${hex(16)}`, `tok-${hex(16)}`];
  const config = loadApiConfig({
    REDIS_URL: process.env.REDIS_URL,
    QUEUE_PREFIX: uniquePrefix(),
    API_TOKENS: tokens.join(','),
    RESULT_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    LOG_LEVEL: 'debug',
    JOB_ATTEMPTS: '1',
    ...env,
  });
  const logs: string[] = [];
  const logger = createLogger({ name: 'api-test', level: 'debug' }, { write: (line: string) => void logs.push(line) });
  const deps = createApiDeps(config, logger);
  const app = await buildApp(config, deps);
  await app.ready();
  const workers: Worker[] = [];

  return {
    app,
    deps,
    config,
    tokens,
    logs,
    auth: { authorization: `Bearer ${tokens[0]}` },
    inject: (options) => app.inject(options),
    startWorker(processor) {
      const worker = new Worker(QUEUES.provisioning, processor, {
        connection: { url: config.REDIS_URL },
        prefix: config.QUEUE_PREFIX,
        concurrency: 8,
      });
      worker.on('error', () => undefined);
      workers.push(worker);
      return worker;
    },
    async jobCount() {
      const counts = await Promise.all(Object.values(deps.queues).map((queue) => queue.getJobCounts()));
      return counts.flatMap((byState) => Object.values(byState)).reduce((sum, n) => sum + n, 0);
    },
    async close() {
      await Promise.allSettled(workers.map((worker) => worker.close(true)));
      await app.close();
      if (deps.redis.status === 'ready') {
        await Promise.allSettled(Object.values(deps.queues).map((queue) => queue.obliterate({ force: true })));
        const keys = await deps.redis.keys(`${config.QUEUE_PREFIX}:*`);
        if (keys.length > 0) await deps.redis.del(...keys);
      }
      await deps.close();
    },
  };
}

/** Waits until the app's producer connection is up (it refuses commands until then). */
export async function redisReady(t: TestApp): Promise<void> {
  await eventually('the redis connection', async () => (t.deps.redis.status === 'ready' ? true : undefined), 10_000, 50);
}

export type { Job };
