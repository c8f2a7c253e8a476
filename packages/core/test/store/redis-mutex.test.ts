import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RedisMutex } from '../../src/store/redis-mutex.js';
import { eventually } from '../../../../test/helpers/poll.js';
import { connectRedis, deleteKeys, uniquePrefix } from './helpers.js';

const redis = connectRedis();
const mutex = new RedisMutex(redis);
let key: string;
let prefix: string;

beforeEach(() => {
  prefix = uniquePrefix('mutex');
  key = `${prefix}:lock:test`;
});
afterEach(async () => {
  await deleteKeys(redis, prefix);
});
afterAll(async () => {
  await redis.quit();
});

describe('RedisMutex (real Redis)', () => {
  it('lets only the token that holds the lock renew or release it', async () => {
    expect(await mutex.acquire(key, 'a', 10_000)).toBe(true);
    expect(await mutex.acquire(key, 'b', 10_000)).toBe(false);
    expect(await mutex.renew(key, 'b', 10_000)).toBe(false);
    expect(await mutex.release(key, 'b')).toBe(false);
    expect(await redis.get(key)).toBe('a');
    expect(await mutex.release(key, 'a')).toBe(true);
    expect(await redis.exists(key)).toBe(0);
  });

  it('acquireWithin waits for the holder to release, and gives up at its deadline', async () => {
    await mutex.acquire(key, 'a', 10_000);
    expect(await mutex.acquireWithin(key, 'b', 10_000, 200)).toBe(false);
    const waiting = mutex.acquireWithin(key, 'b', 10_000, 5_000);
    await mutex.release(key, 'a');
    expect(await waiting).toBe(true);
    expect(await redis.get(key)).toBe('b');
  });

  it('hold releases the lock when the work throws, and renews it when asked', async () => {
    await mutex.acquire(key, 'a', 300);
    await expect(
      mutex.hold(key, 'a', 300, async () => {
        // Outlive the TTL twice: renewal keeps the lock ours.
        const until = Date.now() + 700;
        while (Date.now() < until) {
          expect(await redis.get(key)).toBe('a');
          await new Promise((r) => setTimeout(r, 50));
        }
        throw new Error('work failed');
      }, { renew: true }),
    ).rejects.toThrow('work failed');
    expect(await redis.exists(key)).toBe(0);
  });

  it('hold reports, once, a renewal that finds the lock gone', async () => {
    await mutex.acquire(key, 'a', 300);
    const lost: string[] = [];
    await mutex.hold(
      key,
      'a',
      300,
      async () => {
        await redis.del(key);
        await eventually('the loss is reported', async () => (lost.length > 0 ? true : undefined), 5_000, 10);
        // Free now: another takes it; this holder's release leaves it alone.
        expect(await mutex.acquire(key, 'b', 300)).toBe(true);
      },
      { renew: true, onLost: (why) => lost.push(why) },
    );
    expect(lost).toEqual(['not-ours']);
    expect(await redis.get(key)).toBe('b');
  });
});
