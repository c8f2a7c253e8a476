// A fleet run's end reads its children's results from Redis a page at a time (HSCAN), not
// in one reply: every result is counted once, however many pages it takes.
import { Job, Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { childResults } from '../../apps/worker/src/processors/fleet-run.processor.js';
import { dropPrefix } from '../helpers/redis.js';
import { uniquePrefix } from '../helpers/names.js';
import { stackEnv } from '../helpers/stack.js';

describe('fleet run: the children results, paged', () => {
  const prefix = uniquePrefix('fr');
  let redis: Redis;
  let queue: Queue;

  beforeAll(() => {
    redis = new Redis(stackEnv('REDIS_URL'), { maxRetriesPerRequest: null });
    queue = new Queue('fleet', { connection: redis, prefix });
  });

  afterAll(async () => {
    await queue.close();
    await redis.quit();
    await dropPrefix(stackEnv('REDIS_URL'), prefix);
  });

  it('reads 2,500 results in pages of 100, each once, with their repairs', async () => {
    const fields: string[] = [];
    for (let i = 0; i < 2500; i++) {
      const username = `t-${String(i).padStart(4, '0')}`;
      const repairs = i % 2 ? ['namespace: missing: it would be created with all its fittings'] : [];
      fields.push(`${prefix}:fleet-user:sync-user-r1-${username}`, JSON.stringify({ username, dryRun: true, repairs }));
    }
    // As BullMQ keeps a parent's processed children: one hash field per child, its result as JSON.
    await redis.hset(`${prefix}:fleet:parent-1:processed`, ...fields);
    const scans: number[] = [];
    const parent = new Job(queue, 'sync', {}, {}, 'parent-1');
    const counted = { getDependencies: (opts: Parameters<Job['getDependencies']>[0]) => (scans.push(1), parent.getDependencies(opts)) };

    const values = (await childResults(counted, 100)) as { username: string; repairs: string[] }[];

    expect(values).toHaveLength(2500);
    expect(new Set(values.map((v) => v.username)).size).toBe(2500);
    expect(scans.length).toBeGreaterThan(5);
    const withRepairs = values.filter((v) => v.repairs.length > 0);
    expect(withRepairs).toHaveLength(1250);
    expect(withRepairs.every((v) => v.repairs[0] === withRepairs[0]!.repairs[0])).toBe(true);
  });

  it('a parent without children has no results', async () => {
    expect(await childResults(new Job(queue, 'sync', {}, {}, 'no-children'), 100)).toEqual([]);
  });
});
