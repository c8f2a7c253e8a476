// The one way tests start the API and the worker app in this process, against the stack:
// each on the queue prefix (and settings) the test gives, logs captured.
import type { FastifyInstance } from 'fastify';
import { buildApp, createApiDeps, type ApiDeps } from '@kup/api';
import { createLogger, loadApiConfig, type ApiEnv, type WorkerEnv } from '@kup/core';
import { createWorkerApp, type WorkerApp } from '@kup/worker';
import { LogCapture } from './logs.js';
import { randomSuffix } from './names.js';
import { eventually } from './poll.js';
import { stackEnv } from './stack.js';

export interface TestApi {
  app: FastifyInstance;
  deps: ApiDeps;
  config: ApiEnv;
  logs: LogCapture;
  /** An API token of this API's own (the stack's API_TOKENS work too, unless overridden). */
  token: string;
  close(): Promise<void>;
}

export interface StartApiOptions {
  /** The environment the settings start from (default: this process's, the stack's). */
  env?: NodeJS.ProcessEnv;
  /** Wait for the producer connection (default); off for a test of Redis being down. */
  waitForRedis?: boolean;
}

/** Waits until an API's producer connection is up (it refuses commands until then). */
export async function redisReady(deps: Pick<ApiDeps, 'redis'>): Promise<void> {
  await eventually('api redis connection ready', async () => (deps.redis.status === 'ready' ? true : undefined), 15_000, 50);
}

/**
 * The real API (buildApp + createApiDeps) on `prefix`, logging at debug level unless
 * `overrides` says otherwise, and ready: its producer connection fails fast (503) until
 * Redis is connected, so this waits for that, as a readiness probe would.
 */
export async function startTestApi(prefix: string, overrides: Record<string, string> = {}, logs = new LogCapture(), options: StartApiOptions = {}): Promise<TestApi> {
  const token = `tok-${randomSuffix(24)}`;
  const base = options.env ?? process.env;
  const config = loadApiConfig({ ...base, QUEUE_PREFIX: prefix, API_TOKENS: `${token},${stackEnv('API_TOKENS')}`, LOG_LEVEL: 'debug', ...overrides });
  const deps = createApiDeps(config, createLogger({ name: 'api', level: config.LOG_LEVEL }, logs));
  const app = await buildApp(config, deps);
  await app.ready();
  if (options.waitForRedis !== false) await redisReady(deps);
  return {
    app,
    deps,
    config,
    logs,
    token,
    async close() {
      await app.close();
      await deps.close();
    },
  };
}

/** The worker app (provisioning and fleet workers, schedules) with `config`, started. */
export async function startTestWorkerApp(config: WorkerEnv, logs = new LogCapture(), level = 'debug'): Promise<WorkerApp> {
  const app = createWorkerApp(config, { logger: createLogger({ name: 'worker', level }, logs), caFile: stackEnv('STACK_CA_FILE') });
  await app.start();
  return app;
}
