import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LOCKED, UserLock } from '../../src/store/user-lock.js';
import { eventually } from '../../../../test/helpers/poll.js';
import { connectRedis, deleteKeys, uniquePrefix } from './helpers.js';

const redis = connectRedis();
let prefix: string;
let lock: UserLock;

beforeEach(() => {
  prefix = uniquePrefix('lock');
  lock = new UserLock(redis, prefix, 10_000);
});
afterEach(async () => {
  await deleteKeys(redis, prefix);
});
afterAll(async () => {
  await redis.quit();
});

const rawKey = (username: string) => `${prefix}:lock:user:${username}`;

describe('UserLock (real Redis)', () => {
  it('refuses a second holder', async () => {
    expect(await lock.acquire('jean', 'create-jean')).toBe(true);
    expect(await lock.acquire('jean', 'delete-jean')).toBe(false);
    expect(await redis.get(rawKey('jean'))).toBe('create-jean');
  });

  it('locks per username', async () => {
    expect(await lock.acquire('jean', 'create-jean')).toBe(true);
    expect(await lock.acquire('emilie', 'create-emilie')).toBe(true);
  });

  it('is taken once: a holder is one attempt, not let in again', async () => {
    expect(await lock.acquire('jean', 'create-jean:a1')).toBe(true);
    expect(await lock.acquire('jean', 'create-jean:a1')).toBe(false);
    expect(await lock.extend('jean', 'create-jean:a1')).toBe(true);
  });

  it('ignores a release or an extend by a non-holder', async () => {
    await lock.acquire('jean', 'create-jean');
    await lock.release('jean', 'delete-jean');
    expect(await redis.get(rawKey('jean'))).toBe('create-jean');
    expect(await lock.extend('jean', 'delete-jean')).toBe(false);
    expect(await lock.acquire('jean', 'delete-jean')).toBe(false);
  });

  it('frees the user on release by the holder', async () => {
    await lock.acquire('jean', 'create-jean');
    await lock.release('jean', 'create-jean');
    expect(await redis.exists(rawKey('jean'))).toBe(0);
    expect(await lock.acquire('jean', 'delete-jean')).toBe(true);
  });

  it('sets a TTL, so a crashed holder cannot keep the user forever', async () => {
    const shortLock = new UserLock(redis, prefix, 300);
    await shortLock.acquire('jean', 'create-jean');
    const pttl = await redis.pttl(rawKey('jean'));
    expect(pttl).toBeGreaterThan(0);
    expect(pttl).toBeLessThanOrEqual(300);
    await eventually('the lock expired', async () => ((await shortLock.acquire('jean', 'delete-jean')) ? true : undefined), 5_000, 50);
    expect(await redis.get(rawKey('jean'))).toBe('delete-jean');
  });
});

describe('UserLock.withLock (real Redis)', () => {
  it('returns LOCKED without running the work when another job holds the user', async () => {
    await lock.acquire('jean', 'create-jean');
    let ran = false;
    const result = await lock.withLock('jean', 'delete-jean', async () => {
      ran = true;
      return 'done';
    });
    expect(result).toBe(LOCKED);
    expect(ran).toBe(false);
    expect(await redis.get(rawKey('jean'))).toBe('create-jean');
  });

  it('runs the work holding the lock, returns its value and releases after', async () => {
    const result = await lock.withLock('jean', 'create-jean', async () => {
      expect(await redis.get(rawKey('jean'))).toBe('create-jean');
      expect(await lock.acquire('jean', 'delete-jean')).toBe(false);
      return 42;
    });
    expect(result).toBe(42);
    expect(await redis.exists(rawKey('jean'))).toBe(0);
  });

  it('releases the lock when the work throws, and rethrows', async () => {
    const failure = new Error('keycloak down');
    await expect(
      lock.withLock('jean', 'create-jean', async () => {
        throw failure;
      }),
    ).rejects.toBe(failure);
    expect(await redis.exists(rawKey('jean'))).toBe(0);
    expect(await lock.acquire('jean', 'delete-jean')).toBe(true);
  });

  it('keeps a re-run of the same job out while an earlier attempt may still be working', async () => {
    await lock.acquire('jean', 'create-jean:a1');
    let ran = false;
    expect(await lock.withLock('jean', 'create-jean:a2', async () => (ran = true))).toBe(LOCKED);
    expect(ran).toBe(false);
    expect(await redis.get(rawKey('jean'))).toBe('create-jean:a1');
  });

  it('tells the work once when another holder has the lock, and leaves it to that holder', async () => {
    const shortLock = new UserLock(redis, prefix, 300);
    const lost: string[] = [];
    await shortLock.withLock(
      'jean',
      'create-jean:a1',
      async () => {
        await redis.set(rawKey('jean'), 'delete-jean:b1', 'PX', 10_000);
        await eventually('the loss is reported', async () => (lost.length > 0 ? true : undefined), 5_000, 10);
      },
      { onLost: (why) => lost.push(why) },
    );
    expect(lost).toEqual(['not-ours']);
    expect(await redis.get(rawKey('jean'))).toBe('delete-jean:b1');
  });

  it('renews the lock while work outlives its TTL', async () => {
    const shortLock = new UserLock(redis, prefix, 600);
    await shortLock.withLock('jean', 'create-jean', async () => {
      // Work for two and a half TTLs; the lock must stay ours throughout.
      const until = Date.now() + 1_500;
      while (Date.now() < until) {
        expect(await redis.get(rawKey('jean'))).toBe('create-jean');
        await new Promise((r) => setTimeout(r, 50));
      }
    });
    expect(await redis.exists(rawKey('jean'))).toBe(0);
  });
});
