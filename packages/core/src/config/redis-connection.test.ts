import { describe, expect, it } from 'vitest';
import { ConfigError, commonEnv, loadApiConfig } from './env.js';
import { parseHostPorts, redisTopology, type RedisEnv } from './redis-connection.js';

const env = (vars: Record<string, string>): RedisEnv =>
  commonEnv.parse({ RESULT_ENCRYPTION_KEY: 'a'.repeat(64), ...vars });

describe('redisTopology', () => {
  it('uses REDIS_URL by default, with the overrides', () => {
    const topology = redisTopology(env({ REDIS_URL: 'redis://r:6380/2' }), { maxRetriesPerRequest: null });
    expect(topology).toEqual({ mode: 'standalone', url: 'redis://r:6380/2', options: { maxRetriesPerRequest: null } });
  });

  it('builds Sentinel options from REDIS_SENTINELS and REDIS_SENTINEL_NAME', () => {
    const topology = redisTopology(
      env({ REDIS_SENTINELS: 's1:26379, [::1]:26380', REDIS_SENTINEL_NAME: 'mymaster', REDIS_PASSWORD: 'pw', REDIS_SENTINEL_PASSWORD: 'spw' }),
      { enableOfflineQueue: false },
    );
    expect(topology).toEqual({
      mode: 'sentinel',
      options: {
        sentinels: [{ host: 's1', port: 26379 }, { host: '::1', port: 26380 }],
        name: 'mymaster',
        password: 'pw',
        sentinelPassword: 'spw',
        enableOfflineQueue: false,
      },
    });
  });

  it('builds a Cluster from REDIS_CLUSTER_NODES with a hash-tagged prefix', () => {
    const topology = redisTopology(env({ REDIS_CLUSTER_NODES: 'n1:7000,n2:7001', QUEUE_PREFIX: '{kup}', REDIS_TLS: 'true' }), {
      maxRetriesPerRequest: null,
      enableOfflineQueue: false,
    });
    expect(topology).toEqual({
      mode: 'cluster',
      nodes: [{ host: 'n1', port: 7000 }, { host: 'n2', port: 7001 }],
      options: { redisOptions: { tls: {}, maxRetriesPerRequest: null, enableOfflineQueue: false }, enableOfflineQueue: false },
    });
  });

  it('refuses Cluster with a prefix that is not a hash tag', () => {
    for (const prefix of ['kup', '{}', 'kup}', '{kup']) {
      const config = env({ REDIS_CLUSTER_NODES: 'n1:7000', QUEUE_PREFIX: prefix });
      expect(() => redisTopology(config), prefix).toThrow(/QUEUE_PREFIX: .*hash tag/);
    }
    expect(redisTopology(env({ REDIS_CLUSTER_NODES: 'n1:7000', QUEUE_PREFIX: 'app-{kup}' })).mode).toBe('cluster');
  });

  it('refuses Sentinel without a name, and Sentinel with Cluster', () => {
    expect(() => redisTopology(env({ REDIS_SENTINELS: 's1:26379' }))).toThrow(ConfigError);
    expect(() => redisTopology(env({ REDIS_SENTINELS: 's1:26379', REDIS_SENTINEL_NAME: 'm', REDIS_CLUSTER_NODES: 'n:1', QUEUE_PREFIX: '{k}' }))).toThrow(
      /cannot be combined/,
    );
  });
});

describe('Redis settings at config load', () => {
  const api = { RESULT_ENCRYPTION_KEY: 'a'.repeat(64), API_TOKENS: 'x'.repeat(16) };

  it('refuses a non-hash-tagged prefix with Cluster, naming the key, never the values', () => {
    const error = (() => {
      try {
        loadApiConfig({ ...api, REDIS_CLUSTER_NODES: 'n1:7000', REDIS_PASSWORD: 'secret-pw' });
      } catch (caught) {
        return caught;
      }
    })();
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).issues).toEqual([expect.stringMatching(/^QUEUE_PREFIX: /)]);
    expect((error as Error).message).not.toContain('secret-pw');
  });

  it('refuses malformed node lists', () => {
    expect(() => loadApiConfig({ ...api, REDIS_SENTINELS: 's1', REDIS_SENTINEL_NAME: 'm' })).toThrow(/REDIS_SENTINELS: must be host:port/);
    expect(() => loadApiConfig({ ...api, REDIS_CLUSTER_NODES: 'n1:7000,,', QUEUE_PREFIX: '{k}' })).toThrow(/REDIS_CLUSTER_NODES/);
  });

  it('accepts a Cluster with a hash-tagged prefix', () => {
    expect(loadApiConfig({ ...api, REDIS_CLUSTER_NODES: 'n1:7000', QUEUE_PREFIX: '{kup}' }).QUEUE_PREFIX).toBe('{kup}');
  });
});

describe('parseHostPorts', () => {
  it('reads hosts, IPv6 in brackets and ports', () => {
    expect(parseHostPorts(' a:1 ,[fe80::1]:2')).toEqual([{ host: 'a', port: 1 }, { host: 'fe80::1', port: 2 }]);
  });
});
