import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Sealer } from '../../src/crypto/sealer.js';
import { SecretStore, secretKeyOf } from '../../src/store/secret-store.js';
import { connectRedis, deleteKeys, uniquePrefix } from './helpers.js';

const TTL_SECONDS = 600;
const redis = connectRedis();
const sealer = new Sealer(randomBytes(32));
let prefix: string;
let store: SecretStore;

beforeEach(() => {
  prefix = uniquePrefix('secret');
  store = new SecretStore(redis, sealer, prefix, TTL_SECONDS);
});
afterEach(async () => {
  await deleteKeys(redis, prefix);
});
afterAll(async () => {
  await redis.quit();
});

const rawKey = (jobKey: string) => `${prefix}:secret:${jobKey}`;

describe('SecretStore (real Redis)', () => {
  it('putIfAbsent keeps the first value: a retried job gets its first password back', async () => {
    expect(await store.putIfAbsent('create-jean-1', 'First-Password-1!')).toBe('First-Password-1!');
    expect(await store.putIfAbsent('create-jean-1', 'Second-Password-2!')).toBe('First-Password-1!');
    expect(await store.get('create-jean-1')).toBe('First-Password-1!');
  });

  it('putIfAbsent is atomic: concurrent callers all get the same one value', async () => {
    const candidates = Array.from({ length: 10 }, (_, i) => `Candidate-${i}-Password!`);
    const results = await Promise.all(candidates.map((c) => store.putIfAbsent('create-race-1', c)));
    expect(new Set(results).size).toBe(1);
    expect(candidates).toContain(results[0]);
    expect(await store.get('create-race-1')).toBe(results[0]);
  });

  it('rests sealed in Redis, with a TTL', async () => {
    await store.putIfAbsent('create-jean-1', 'Clear-Text-Password-9');
    const raw = await redis.get(rawKey('create-jean-1'));
    expect(raw).not.toBeNull();
    expect(raw).not.toContain('Clear-Text');
    expect(raw).toMatch(/^v1\./);
    const ttl = await redis.ttl(rawKey('create-jean-1'));
    expect(ttl).toBeGreaterThan(TTL_SECONDS - 10);
    expect(ttl).toBeLessThanOrEqual(TTL_SECONDS);
  });

  it('put replaces the secret and keeps a TTL', async () => {
    await store.putIfAbsent('create-jean-1', 'Old-Password-1!');
    await store.put('create-jean-1', 'New-Password-2!');
    expect(await store.get('create-jean-1')).toBe('New-Password-2!');
    expect(await redis.ttl(rawKey('create-jean-1'))).toBeGreaterThan(0);
  });

  it('get is undefined for an unknown key and after remove', async () => {
    expect(await store.get('create-nobody-1')).toBeUndefined();
    await store.putIfAbsent('create-jean-1', 'Some-Password-1!');
    await store.remove('create-jean-1');
    expect(await store.get('create-jean-1')).toBeUndefined();
    expect(await redis.exists(rawKey('create-jean-1'))).toBe(0);
    await store.remove('create-jean-1'); // removing twice is fine
  });

  it('touch restarts the TTL', async () => {
    await store.putIfAbsent('create-jean-1', 'Some-Password-1!');
    await redis.expire(rawKey('create-jean-1'), 5);
    expect(await redis.ttl(rawKey('create-jean-1'))).toBeLessThanOrEqual(5);
    await store.touch('create-jean-1');
    expect(await redis.ttl(rawKey('create-jean-1'))).toBeGreaterThan(TTL_SECONDS - 10);
    await store.touch('create-nobody-1'); // touching nothing creates nothing
    expect(await redis.exists(rawKey('create-nobody-1'))).toBe(0);
  });

  it('binds a secret to its job: a sealed value copied under another job key does not open', async () => {
    await store.putIfAbsent('create-jean-1', 'Some-Password-1!');
    const raw = await redis.get(rawKey('create-jean-1'));
    await redis.set(rawKey('create-mallory-1'), raw ?? '', 'EX', 60);
    await expect(store.get('create-mallory-1')).rejects.toThrow();
  });

  it('keeps the secrets of two prefixes apart', async () => {
    const other = new SecretStore(redis, sealer, `${prefix}:other`, TTL_SECONDS);
    await store.putIfAbsent('create-jean-1', 'Password-A-1!');
    expect(await other.get('create-jean-1')).toBeUndefined();
  });
});

describe('secretKeyOf', () => {
  it('is the job id and creation time, so a re-added job never sees an older password', () => {
    expect(secretKeyOf({ id: 'create-jean', timestamp: 1_700_000_000_000 })).toBe('create-jean-1700000000000');
    expect(secretKeyOf({ id: 'create-jean', timestamp: 1 })).not.toBe(secretKeyOf({ id: 'create-jean', timestamp: 2 }));
  });

  it('refuses a job without an id', () => {
    expect(() => secretKeyOf({ timestamp: 1 })).toThrow();
    expect(() => secretKeyOf({ id: '', timestamp: 1 })).toThrow();
  });
});
