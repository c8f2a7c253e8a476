import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LEFT_ACCOUNT_TTL_SECONDS, LeftGrafanaAccounts } from '../../src/store/left-grafana-accounts.js';
import { connectRedis, deleteKeys, uniquePrefix } from './helpers.js';

const redis = connectRedis();
let prefix: string;
let store: LeftGrafanaAccounts;

beforeEach(() => {
  prefix = uniquePrefix('left');
  store = new LeftGrafanaAccounts(redis, prefix);
});
afterEach(async () => {
  await deleteKeys(redis, prefix);
});
afterAll(async () => {
  await redis.quit();
});

const rawKey = (username: string) => `${prefix}:grafana-left:${username}`;

describe('LeftGrafanaAccounts (real Redis)', () => {
  it('keeps one record per username, beside the queues, for as long as a failed job is kept', async () => {
    expect(await store.get('jean')).toBeUndefined();
    await store.put('jean', { userId: 'kc-1' });
    await store.put('jean', { userId: 'kc-1', grafanaUserId: 7 });
    await store.put('ana', { userId: 'kc-2' });
    expect(await store.get('jean')).toEqual({ userId: 'kc-1', grafanaUserId: 7 });
    expect(await store.get('ana')).toEqual({ userId: 'kc-2' });
    const ttl = await redis.ttl(rawKey('jean'));
    expect(ttl).toBeGreaterThan(LEFT_ACCOUNT_TTL_SECONDS - 60);
    expect(ttl).toBeLessThanOrEqual(LEFT_ACCOUNT_TTL_SECONDS);
    await store.clear('jean');
    expect(await store.get('jean')).toBeUndefined();
    expect(await store.get('ana')).toEqual({ userId: 'kc-2' });
  });

  it('a record that does not fit (written by hand) is no record: it never makes an account ours', async () => {
    for (const raw of ['not json', '{}', '{"userId":"../../x"}', '{"userId":"kc-1","grafanaUserId":0}', '{"userId":"kc-1","grafanaUserId":"7"}', 'null']) {
      await redis.set(rawKey('jean'), raw);
      expect(await store.get('jean'), raw).toBeUndefined();
    }
  });

  it('writes only the record, nothing else a caller hands it', async () => {
    await store.put('jean', { userId: 'kc-1', grafanaUserId: 7, password: 'never' } as never);
    expect(JSON.parse((await redis.get(rawKey('jean'))) as string)).toEqual({ userId: 'kc-1', grafanaUserId: 7 });
  });
});
