// Shared helpers of the reliability suites: stack env, unique names, captured logs,
// an in-process API on its own queue prefix, Redis key cleanup, polling with deadlines.
import type { ApiDeps } from '@kup/api';
import { QUEUES, type QueueName } from '@kup/core';
import { randomSuffix, uniquePrefix as namedPrefix } from '../helpers/names.js';
import { eventually } from '../helpers/poll.js';
import { startTestApi as startApi, type TestApi } from '../helpers/service.js';

export { ARTIFACTS, LogCapture } from '../helpers/logs.js';
export type { TestApi } from '../helpers/service.js';

export { stackEnv as env } from '../helpers/stack.js';

export const hex = randomSuffix;
/** A queue prefix of its own per suite run, so suites never see each other's jobs. */
export const uniquePrefix = (suite: string): string => namedPrefix(`rel-${suite}`);

/** The real API on its own queue prefix (test/helpers/service.ts), waits of up to a minute allowed. */
export function startTestApi(prefix: string, overrides: Record<string, string> = {}): Promise<TestApi> {
  return startApi(prefix, { MAX_WAIT_SECONDS: '60', ...overrides });
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
