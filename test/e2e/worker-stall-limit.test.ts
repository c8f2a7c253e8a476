// A job whose worker dies under it too often fails for good *through its clean-up*: BullMQ
// fails a job over its own stall limit without running the processor, so the worker sets
// BullMQ's limit BULLMQ_STALL_MARGIN above WORKER_MAX_STALLED_COUNT and runJob enforces the
// latter. Real Redis, real BullMQ stall detection: worker A takes the job and dies (closed
// without finishing, so its lock lapses); worker B finds it stalled and runs it again.
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { createLogger } from '@kup/core';
import { BULLMQ_STALL_MARGIN, runJob, type UserLocks } from '../../apps/worker/src/processors/run-job.js';
import { randomSuffix } from '../helpers/names.js';
import { dropPrefix } from '../helpers/redis.js';
import { eventually } from '../helpers/stack.js';

const REDIS_URL = process.env.REDIS_URL as string;
const prefix = `t-stall-${randomSuffix()}`;
const log = createLogger({ name: 'test', level: 'silent' });
const free: UserLocks = { withLock: async (_u, _h, work) => work() };
const STALL_LIMIT = 1;
const timing = { lockDuration: 1_000, stalledInterval: 300 };

afterAll(async () => {
  await dropPrefix(REDIS_URL, prefix);
});

describe('worker: the stall limit', () => {
  it('fails a job interrupted WORKER_MAX_STALLED_COUNT times through its clean-up, not by BullMQ alone', async () => {
    const name = `stall-${randomSuffix()}`;
    const queue = new Queue(name, { connection: { url: REDIS_URL }, prefix });
    const started: string[] = [];
    const cleanedUp: string[] = [];

    // Worker A: takes the job and never finishes it, then goes away as a killed worker
    // does: without finishing the job or releasing its lock.
    const a = new Worker(
      name,
      async (job) => {
        started.push(`a:${job.stalledCounter}`);
        await new Promise<never>(() => undefined);
      },
      { connection: { url: REDIS_URL }, prefix, ...timing, maxStalledCount: STALL_LIMIT + BULLMQ_STALL_MARGIN },
    );
    const job = await queue.add('create', { username: 'x' }, { jobId: 'create-x', attempts: 3 });
    await eventually('worker A runs the job', async () => (started.length === 1 ? true : undefined), 20_000, 50);
    await a.close(true);
    // Its lock would lapse after lockDuration; dropping it now is the same, sooner.
    const redis = new Redis(REDIS_URL);
    await redis.del(`${prefix}:${name}:create-x:lock`);
    redis.disconnect();

    // Worker B: the deployed options and runJob with the worker's stall limit.
    const b = new Worker(
      name,
      (next, token) =>
        runJob({
          job: next,
          token,
          usernames: ['x'],
          locks: free,
          log,
          stallLimit: STALL_LIMIT,
          work: async () => {
            started.push(`b:${next.stalledCounter}`);
            return 'done';
          },
          onFinalFailure: async () => void cleanedUp.push(next.id as string),
        }),
      { connection: { url: REDIS_URL }, prefix, ...timing, maxStalledCount: STALL_LIMIT + BULLMQ_STALL_MARGIN },
    );
    try {
      const state = await eventually('the job to end', async () => {
        const now = await queue.getJobState('create-x');
        return now === 'failed' || now === 'completed' ? now : undefined;
      }, 30_000, 100);
      const failed = await queue.getJob(job.id as string);
      expect(state).toBe('failed');
      expect(failed?.stalledCounter).toBe(STALL_LIMIT);
      expect(failed?.failedReason).toMatch(/^STALLED: the job was interrupted 1 times/);
      expect(cleanedUp).toEqual(['create-x']);
      // Worker B never ran the work again: only A's first run started it.
      expect(started).toEqual(['a:0']);
    } finally {
      await b.close();
      await queue.close();
    }
  });
});
