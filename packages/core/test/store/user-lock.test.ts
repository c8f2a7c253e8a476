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

  it('lets the same holder in again and renews its TTL', async () => {
    expect(await lock.acquire('jean', 'create-jean')).toBe(true);
    await redis.pexpire(rawKey('jean'), 1_000);
    expect(await lock.acquire('jean', 'create-jean')).toBe(true);
    expect(await redis.pttl(rawKey('jean'))).toBeGreaterThan(5_000);
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

  it('lets a re-run of the same job back in (stalled-job recovery)', async () => {
    await lock.acquire('jean', 'create-jean');
    expect(await lock.withLock('jean', 'create-jean', async () => 'again')).toBe('again');
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
