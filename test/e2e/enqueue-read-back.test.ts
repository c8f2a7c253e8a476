// enqueueUnique with the read-back the API uses (two fields of the job hash, sent in the add's
// own round trip) against the stack's Redis: a new id is ours, a taken one is answered, and
// when the read ran before the add (as it would if the add waited on I/O first), a rival that
// took the id in between is still found and answered, never taken for ours.
import { Queue, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enqueueLockKey, enqueueUnique, RedisMutex, type EnqueueUniqueRequest, type HeldJob } from '@kup/core';
import { dropPrefix } from '../helpers/redis.js';
import { uniquePrefix } from '../helpers/names.js';
import { stackEnv } from '../helpers/stack.js';

describe.each([
  ['auto-pipelined', true],
  ['plain', false],
])('enqueueUnique with a read-back, %s connection', (_mode, enableAutoPipelining) => {
  const prefix = uniquePrefix('rb');
  let redis: Redis;
  let queue: Queue;
  let reads = 0;

  beforeAll(async () => {
    redis = new Redis(stackEnv('REDIS_URL'), { maxRetriesPerRequest: null, enableAutoPipelining });
    queue = new Queue('provisioning', { connection: redis, prefix });
    // Until the connection is ready, an add waits for it and the read-back goes out first (and is read again).
    await queue.waitUntilReady();
  });

  afterAll(async () => {
    await queue.close();
    await redis.quit();
    await dropPrefix(stackEnv('REDIS_URL'), prefix);
  });

  const readHolder = async (jobId: string): Promise<HeldJob | undefined> => {
    reads += 1;
    const [timestamp, data] = await redis.hmget(queue.toKey(jobId), 'timestamp', 'data');
    return timestamp == null ? undefined : { timestamp: Number(timestamp), data: data == null ? undefined : JSON.parse(data) };
  };

  const enqueue = (jobId: string, data: object, target: EnqueueUniqueRequest['queue'] = queue) =>
    enqueueUnique(
      { queue: target, queueName: 'provisioning', name: 'create', jobId, data, jobOptions: {}, readHolder },
      { mutex: new RedisMutex(redis), key: enqueueLockKey(prefix, 'provisioning', jobId) },
    );

  // One read: the installed BullMQ queues its add without waiting on I/O, so the read follows it.
  it('takes a free id as ours with one read', async () => {
    reads = 0;
    const { job, created } = await enqueue('create-free', { email: 'free@example.org' });
    expect(created).toBe(true);
    expect(reads).toBe(1);
    expect((await queue.getJob('create-free'))?.data).toMatchObject({ email: 'free@example.org' });
    expect(job.id).toBe('create-free');
  });

  it('answers a pending job under a taken id with that job', async () => {
    await enqueue('create-taken', { email: 'first@example.org' });
    const second = await enqueue('create-taken', { email: 'second@example.org' });
    expect(second.created).toBe(false);
    expect(second.job.data).toMatchObject({ email: 'first@example.org' });
  });

  /** A queue whose add first waits a turn of the event loop (the read-back goes out before it), and `before` runs then. */
  const lateAdd = (before: () => Promise<unknown> = async () => undefined) =>
    new Proxy(queue, {
      get(target, key, receiver) {
        if (key !== 'add') return Reflect.get(target, key, receiver) as unknown;
        return async (...args: Parameters<Queue['add']>) => {
          await new Promise((resolve) => setImmediate(resolve));
          await before();
          return target.add(...args);
        };
      },
    });

  it('reads again when the read went out before the add, and the job is ours', async () => {
    reads = 0;
    const { created, job } = await enqueue('create-late', { email: 'late@example.org' }, lateAdd());
    expect(created).toBe(true);
    expect(reads).toBe(2);
    expect((await queue.getJob('create-late'))?.timestamp).toBe(job.timestamp);
  });

  it('never takes a rival that got the id between that read and the add for ours', async () => {
    let rival: Job | undefined;
    const racing = lateAdd(async () => {
      rival = (await enqueue('create-rival', { email: 'rival@example.org' })).job;
    });
    const loser = await enqueue('create-rival', { email: 'loser@example.org' }, racing);
    expect(rival).toBeDefined();
    expect(loser.created).toBe(false);
    expect(loser.job.data).toMatchObject({ email: 'rival@example.org' });
    expect((await queue.getJob('create-rival'))?.data).toMatchObject({ email: 'rival@example.org' });
  });
});
