// Shared helpers of the reliability suites: stack env, unique names, captured logs,
// an in-process API on its own queue prefix, Redis key cleanup, polling with deadlines.
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { eventually } from '../helpers/poll.js';
import { buildApp, createApiDeps, type ApiDeps } from '@kup/api';
import { createLogger, loadApiConfig, QUEUES, type ApiEnv, type QueueName } from '@kup/core';

export const ARTIFACTS = join(process.cwd(), 'test-artifacts', 'reliability');

export function env(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set (the integration globalSetup provides the stack env)`);
  return value;
}

export const hex = (bytes = 4): string => randomBytes(bytes).toString('hex');
/** A queue prefix of its own per suite run, so suites never see each other's jobs. */
export const uniquePrefix = (suite: string): string => `rel-${suite}-${hex()}`;

/** Collects every log line written to it; `save` keeps them as a test artifact. */
export class LogCapture extends Writable {
  readonly lines: string[] = [];
  #partial = '';

  override _write(chunk: Buffer | string, _encoding: BufferEncoding, done: () => void): void {
    const text = this.#partial + chunk.toString();
    const parts = text.split('\n');
    this.#partial = parts.pop() ?? '';
    this.lines.push(...parts.filter(Boolean));
    done();
  }

  text(): string {
    return this.lines.join('\n') + (this.#partial ? `\n${this.#partial}` : '');
  }

  save(name: string): string {
    mkdirSync(ARTIFACTS, { recursive: true });
    const file = join(ARTIFACTS, `${name}.log`);
    writeFileSync(file, this.text());
    return file;
  }
}

export interface TestApi {
  app: FastifyInstance;
  deps: ApiDeps;
  config: ApiEnv;
  logs: LogCapture;
  token: string;
  close(): Promise<void>;
}

/** The real API (buildApp + createApiDeps) on its own queue prefix, logs captured at debug level. */
export async function startTestApi(prefix: string, overrides: Record<string, string> = {}): Promise<TestApi> {
  const token = `rel-${hex(24)}`;
  const config = loadApiConfig({
    ...process.env,
    QUEUE_PREFIX: prefix,
    API_TOKENS: `${token},${env('API_TOKENS')}`,
    LOG_LEVEL: 'debug',
    MAX_WAIT_SECONDS: '60',
    ...overrides,
  });
  const logs = new LogCapture();
  const logger = createLogger({ name: 'api', level: config.LOG_LEVEL }, logs);
  const deps = createApiDeps(config, logger);
  const app = await buildApp(config, deps);
  await app.ready();
  // The producer connection fails fast (503) until it is ready: wait for it, as a readiness probe would.
  await eventually('api redis connection ready', async () => (deps.redis.status === 'ready' ? true : undefined), 15_000, 50);
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

/** Every job of every queue under `prefix`, in any state. */
export async function jobCount(deps: Pick<ApiDeps, 'queues'>): Promise<number> {
  let total = 0;
  for (const name of Object.values(QUEUES) as QueueName[]) {
    const counts = await deps.queues[name].getJobCounts();
    total += Object.values(counts).reduce((sum, n) => sum + n, 0);
  }
  return total;
}



/** A number from the environment (suite sizes are configurable, e.g. smaller under CI). */
export function sizeFromEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  const value = raw === undefined || raw === '' ? fallback : Number(raw);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a positive integer`);
  return value;
}

export { eventually };
export { dropPrefix } from '../helpers/redis.js';
