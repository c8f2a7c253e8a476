// The API on its own (no worker app) for the API's tests, started through the one harness
// (service.ts), with two tokens and an encryption key of its own and a queue prefix it
// wipes on close; a stand-in worker on its queue lets a test decide each job's outcome.
import { randomBytes } from 'node:crypto';
import { Worker, type Job, type Processor } from 'bullmq';
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import type { ApiDeps } from '@kup/api';
import { QUEUES, type ApiEnv } from '@kup/core';
import { LogCapture } from './logs.js';
import { randomSuffix, uniquePrefix } from './names.js';
import { redisReady as apiRedisReady, startTestApi } from './service.js';

export { randomSuffix as hex } from './names.js';
export type { Job };

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
  /** A stand-in worker on this app's queues; the processor decides the outcome. */
  startWorker(processor: Processor): Worker;
  jobCount(): Promise<number>;
  close(): Promise<void>;
}

/**
 * The API built as in production, against the stack's Redis (or `env.REDIS_URL`), from a
 * minimal environment: only what the test gives, not the stack's other settings.
 */
export async function buildTestApp(env: Record<string, string> = {}): Promise<TestApp> {
  const tokens: [string, string] = [`tok-${randomSuffix(16)}`, `tok-${randomSuffix(16)}`];
  const logs = new LogCapture();
  const overrides = { API_TOKENS: tokens.join(','), RESULT_ENCRYPTION_KEY: randomBytes(32).toString('base64'), JOB_ATTEMPTS: '1', ...env };
  const { app, deps, config } = await startTestApi(uniquePrefix(), overrides, logs, { env: { REDIS_URL: process.env.REDIS_URL }, waitForRedis: false });
  const workers: Worker[] = [];

  return {
    app,
    deps,
    config,
    tokens,
    logs: logs.lines,
    auth: { authorization: `Bearer ${tokens[0]}` },
    inject: (options) => app.inject(options),
    startWorker(processor) {
      const worker = new Worker(QUEUES.provisioning, processor, { connection: { url: config.REDIS_URL }, prefix: config.QUEUE_PREFIX, concurrency: 8 });
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
  await apiRedisReady(t.deps);
}
