import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { env } from './helpers.js';

describe('stack: Redis', () => {
  const redis = new Redis(env('REDIS_URL'), { lazyConnect: true, maxRetriesPerRequest: 1 });
  afterAll(async () => {
    await redis.quit();
  });

  it('answers PING and runs with AOF on and noeviction', async () => {
    await redis.connect();
    expect(await redis.ping()).toBe('PONG');
    expect(await redis.config('GET', 'appendonly')).toEqual(['appendonly', 'yes']);
    expect(await redis.config('GET', 'maxmemory-policy')).toEqual(['maxmemory-policy', 'noeviction']);
    const key = `kup-stack-test:${Date.now()}`;
    await redis.set(key, 'value', 'EX', 60);
    expect(await redis.get(key)).toBe('value');
    await redis.del(key);
  });
});
