// "Ask the worker" against the stack's Redis: the API's WorkerQueries enqueues a query, the
// worker's answerQueries answers it, the API reads the answer and removes the job. A kind
// with a schema, an answer that does not fit it, a failure, and no worker at all.
import { Queue, QueueEvents } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { JobWaiter, RedisGuard, WorkerQueries } from '@kup/api';
import { QUEUES, UserNotFoundError, createLogger, defineQuery } from '@kup/core';
import { answerer, createQueryWorker, type QueryWorker } from '@kup/worker';
import { uniquePrefix } from '../helpers/names.js';
import { dropPrefix } from '../helpers/redis.js';
import { eventually, stackEnv } from '../helpers/stack.js';

const echo = defineQuery('test.echo', z.strictObject({ word: z.string().max(20) }), z.object({ echoed: z.string() }));
const leaky = defineQuery('test.leaky', z.object({}), z.object({ username: z.string() }));
const missing = defineQuery('test.missing', z.object({ username: z.string() }), z.object({ found: z.boolean() }));
const unknown = defineQuery('test.unknown', z.object({}), z.object({}));

interface Side {
  redis: Redis;
  queue: Queue;
  events: QueueEvents;
  queries: WorkerQueries;
}

async function apiSide(prefix: string, timeoutSeconds: number): Promise<Side> {
  const redis = new Redis(stackEnv('REDIS_URL'), { maxRetriesPerRequest: 1 });
  const queue = new Queue(QUEUES.queries, { connection: redis, prefix });
  const events = new QueueEvents(QUEUES.queries, { connection: new Redis(stackEnv('REDIS_URL'), { maxRetriesPerRequest: null }), prefix });
  await events.waitUntilReady();
  await eventually('redis ready', async () => (redis.status === 'ready' ? true : undefined));
  const isFinished = async (_q: string, id: string) => ['completed', 'failed', 'unknown'].includes(await queue.getJobState(id));
  const waiter = new JobWaiter({ events: () => events, isFinished });
  return { redis, queue, events, queries: new WorkerQueries({ queue, waiter, guard: new RedisGuard(redis), timeoutSeconds }) };
}

describe('ask the worker: queries', () => {
  const prefix = uniquePrefix('q');
  let side: Side;
  let worker: QueryWorker;
  let workerRedis: Redis;

  beforeAll(async () => {
    side = await apiSide(prefix, 10);
    workerRedis = new Redis(stackEnv('REDIS_URL'), { maxRetriesPerRequest: null });
    const config = { QUEUE_PREFIX: prefix, QUERY_CONCURRENCY: 4, WORKER_LOCK_DURATION_MS: 30_000, WORKER_STALLED_INTERVAL_MS: 5_000 };
    worker = createQueryWorker(config, {
      redis: workerRedis,
      logger: createLogger({ name: 'worker', level: 'silent' }),
      answerers: [
        answerer(echo, async ({ word }) => ({ echoed: word.toUpperCase() })),
        // Returns more than its schema names: the extra field must not be stored.
        answerer(leaky, async () => ({ username: 'a', password: 'hunter2-secret' }) as { username: string }),
        answerer(missing, async ({ username }) => {
          throw new UserNotFoundError(username);
        }),
      ],
    });
    await worker.start();
  });

  afterAll(async () => {
    await worker?.close(true);
    await side?.events.close();
    await side?.queue.close();
    await dropPrefix(stackEnv('REDIS_URL'), prefix);
    await side?.redis.quit();
    await workerRedis?.quit();
  });

  it('answers a query and removes its job once read', async () => {
    expect(await side.queries.ask(echo, { word: 'hello' })).toEqual({ echoed: 'HELLO' });
    await eventually('query job removed', async () => ((await side.queue.getJobCounts('completed', 'waiting', 'active')).completed === 0 ? true : undefined), 10_000);
    const counts = await side.queue.getJobCounts('completed', 'waiting', 'active', 'failed');
    expect(counts).toEqual({ completed: 0, waiting: 0, active: 0, failed: 0 });
  });

  it('answers many queries at once', async () => {
    const words = Array.from({ length: 12 }, (_, i) => `w${i}`);
    const answers = await Promise.all(words.map((word) => side.queries.ask(echo, { word })));
    expect(answers.map((a) => a.echoed)).toEqual(words.map((w) => w.toUpperCase()));
  });

  it('refuses bad parameters before enqueueing (400)', async () => {
    await expect(side.queries.ask(echo, { word: 'x'.repeat(21) })).rejects.toMatchObject({ statusCode: 400, code: 'INVALID_INPUT' });
    expect(await side.queue.getJobCounts('waiting', 'completed', 'failed')).toEqual({ waiting: 0, completed: 0, failed: 0 });
  });

  it('keeps only what the answer schema names', async () => {
    const answer = await side.queries.ask(leaky, {});
    expect(answer).toEqual({ username: 'a' });
    expect(JSON.stringify(answer)).not.toContain('hunter2');
  });

  it('turns a failed answer into its code and status', async () => {
    await expect(side.queries.ask(missing, { username: 'nobody' })).rejects.toMatchObject({ statusCode: 404, code: 'USER_NOT_FOUND' });
  });

  it('fails a kind the worker does not answer', async () => {
    await expect(side.queries.ask(unknown, {})).rejects.toMatchObject({ statusCode: 502, code: 'UNKNOWN_JOB' });
  });

  it('answers 503 WORKER_UNAVAILABLE when no worker answers in time, and leaves no job behind', async () => {
    const lonely = uniquePrefix('q');
    const other = await apiSide(lonely, 1);
    try {
      // Given up after its own 1 s, which the answer names (no stopwatch: a busy machine is slower, not wrong).
      await expect(other.queries.ask(echo, { word: 'anyone' })).rejects.toMatchObject({
        statusCode: 503,
        code: 'WORKER_UNAVAILABLE',
        message: expect.stringContaining('no worker answered within 1 s (QUERY_TIMEOUT_SECONDS)'),
      });
      await eventually('abandoned query removed', async () => ((await other.queue.getJobCounts('waiting')).waiting === 0 ? true : undefined), 5_000);
    } finally {
      await other.events.close();
      await other.queue.close();
      await dropPrefix(stackEnv('REDIS_URL'), lonely);
      await other.redis.quit();
    }
  });
});
