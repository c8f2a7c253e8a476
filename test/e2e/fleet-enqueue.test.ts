// enqueueFleetRun against the stack's Redis: one run per kind at a time, answering only the
// same request (another one is refused), and a producer that loses the race to replace a
// finished run is told so, with the winner's run (or refused, when the winner asked otherwise).
import { Queue, Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DifferentRunPendingError, enqueueFleetRun, type FleetRunData } from '@kup/core';
import { dropPrefix } from '../helpers/redis.js';
import { uniquePrefix } from '../helpers/names.js';
import { eventually, stackEnv } from '../helpers/stack.js';

describe('enqueueFleetRun', () => {
  const prefix = uniquePrefix('fe');
  let redis: Redis;
  let queue: Queue;
  const runIdOf = (job: Job) => (job.data as FleetRunData).runId;

  beforeAll(() => {
    redis = new Redis(stackEnv('REDIS_URL'), { maxRetriesPerRequest: null });
    queue = new Queue('fleet', { connection: redis, prefix });
  });

  afterAll(async () => {
    await queue.close();
    await redis.quit();
    await dropPrefix(stackEnv('REDIS_URL'), prefix);
  });

  /** A finished `reset` run, as a previous run leaves it (a worker runs it, then stops). */
  /**
   * The queue as this producer sees it while a rival replaces the finished run (a purge reset)
   * between this one's remove and its add; `rival()` is the rival's run once it was made.
   */
  function racingRival(): { racing: Queue; rival: () => Job | undefined } {
    let made: Job | undefined;
    const racing = new Proxy(queue, {
      get(target, key, receiver) {
        if (key !== 'add') return Reflect.get(target, key, receiver) as unknown;
        return async (...args: Parameters<Queue['add']>) => {
          made ??= (await enqueueFleetRun(target, 'reset', { mode: 'purge' }, { origin: 'rival', jobOptions: {}, redis })).job;
          return target.add(...args);
        };
      },
    });
    return { racing, rival: () => made };
  }

  async function finishedRun(): Promise<void> {
    await enqueueFleetRun(queue, 'reset', {}, { origin: 'test', jobOptions: {}, redis });
    const connection = redis.duplicate();
    const worker = new Worker('fleet', () => Promise.resolve('done'), { connection, prefix });
    try {
      await eventually('the run completed', async () => ((await queue.getJobState('reset')) === 'completed' ? true : undefined), 10_000);
    } finally {
      await worker.close();
      connection.disconnect();
    }
  }

  it('answers a pending run instead of starting a second, and refuses a request it does not answer', async () => {
    await finishedRun();
    const first = await enqueueFleetRun(queue, 'reset', { mode: 'purge' }, { origin: 'test', jobOptions: {}, redis });
    const second = await enqueueFleetRun(queue, 'reset', { mode: 'purge' }, { origin: 'schedule', jobOptions: {}, redis });
    expect(first.created).toBe(true);
    expect(second).toMatchObject({ created: false });
    expect(runIdOf(second.job)).toBe(runIdOf(first.job));
    expect(second.job.data).toMatchObject({ mode: 'purge' });
    await expect(enqueueFleetRun(queue, 'reset', {}, { origin: 'test', jobOptions: {}, redis })).rejects.toBeInstanceOf(DifferentRunPendingError);
    const stored = await queue.getJob('reset');
    expect(stored && runIdOf(stored)).toBe(runIdOf(first.job));
    expect(stored?.data).toMatchObject({ mode: 'purge', origin: 'test' });
  });

  it('tells a producer that lost the race to replace a finished run that it created nothing', async () => {
    await queue.obliterate({ force: true });
    await finishedRun();
    const { racing, rival } = racingRival();
    const loser = await enqueueFleetRun(racing, 'reset', { mode: 'purge' }, { origin: 'test', jobOptions: {}, redis });
    expect(rival()).toBeDefined();
    expect(loser.created).toBe(false);
    expect(runIdOf(loser.job)).toBe(runIdOf(rival() as Job));
    expect(loser.job.data).toMatchObject({ mode: 'purge', origin: 'rival' });
    const stored = await queue.getJob('reset');
    expect(stored && runIdOf(stored)).toBe(runIdOf(rival() as Job));
  });

  it('refuses a producer that lost that race to a rival asking another run', async () => {
    await queue.obliterate({ force: true });
    await finishedRun();
    const { racing, rival } = racingRival();
    await expect(enqueueFleetRun(racing, 'reset', {}, { origin: 'test', jobOptions: {}, redis })).rejects.toMatchObject({
      code: 'DIFFERENT_RUN_PENDING',
      jobId: 'reset',
      differences: ['mode: "purge" pending, "recreate" asked'],
    });
    const stored = await queue.getJob('reset');
    expect(stored && runIdOf(stored)).toBe(runIdOf(rival() as Job));
  });
});
