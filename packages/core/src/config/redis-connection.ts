import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import { ConfigError, redisTopologyIssues, type CommonEnv } from './env.js';

/** The Redis settings of `commonEnv`: one server (`REDIS_URL`), Sentinel, or Cluster. */
export type RedisEnv = Pick<
  CommonEnv,
  | 'REDIS_URL'
  | 'REDIS_SENTINELS'
  | 'REDIS_SENTINEL_NAME'
  | 'REDIS_SENTINEL_PASSWORD'
  | 'REDIS_CLUSTER_NODES'
  | 'REDIS_USERNAME'
  | 'REDIS_PASSWORD'
  | 'REDIS_TLS'
  | 'QUEUE_PREFIX'
>;

export interface HostPort {
  host: string;
  port: number;
}

/** How to reach Redis, decided once from the environment. */
export type RedisTopology =
  | { mode: 'standalone'; url: string; options: RedisOptions }
  | { mode: 'sentinel'; options: RedisOptions }
  | { mode: 'cluster'; nodes: HostPort[]; options: ClusterOptions };

/** `host:port,host:port` (IPv6 in brackets: `[::1]:26379`). */
export function parseHostPorts(raw: string): HostPort[] {
  return raw
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean)
    .map((entry) => {
      const at = entry.lastIndexOf(':');
      return { host: entry.slice(0, at).replace(/^\[|\]$/g, ''), port: Number(entry.slice(at + 1)) };
    });
}

/**
 * The ioredis options for this environment. `overrides` (timeouts, retries, offline
 * queue) apply to the data connections: the server's, the Sentinel master's, or each
 * Cluster node's. Throws a `ConfigError` for settings `loadApiConfig` would refuse.
 */
export function redisTopology(env: RedisEnv, overrides: RedisOptions = {}): RedisTopology {
  const issues = redisTopologyIssues(env);
  if (issues.length > 0) throw new ConfigError(issues);
  const auth: RedisOptions = {
    ...(env.REDIS_USERNAME ? { username: env.REDIS_USERNAME } : {}),
    ...(env.REDIS_PASSWORD ? { password: env.REDIS_PASSWORD } : {}),
    ...(env.REDIS_TLS ? { tls: {} } : {}),
  };
  if (env.REDIS_CLUSTER_NODES) {
    const { enableOfflineQueue } = overrides;
    return {
      mode: 'cluster',
      nodes: parseHostPorts(env.REDIS_CLUSTER_NODES),
      options: { redisOptions: { ...auth, ...overrides }, ...(enableOfflineQueue === undefined ? {} : { enableOfflineQueue }) },
    };
  }
  if (env.REDIS_SENTINELS && env.REDIS_SENTINEL_NAME) {
    return {
      mode: 'sentinel',
      options: {
        ...auth,
        ...overrides,
        sentinels: parseHostPorts(env.REDIS_SENTINELS),
        name: env.REDIS_SENTINEL_NAME,
        ...(env.REDIS_SENTINEL_PASSWORD ? { sentinelPassword: env.REDIS_SENTINEL_PASSWORD } : {}),
        ...(env.REDIS_TLS ? { enableTLSForSentinelMode: true } : {}),
      },
    };
  }
  return { mode: 'standalone', url: env.REDIS_URL, options: { ...auth, ...overrides } };
}

/**
 * A client for this environment. A Cluster client is typed as `Redis`: the stores and
 * BullMQ use only what both share (one-key commands and scripts, MULTI within one
 * hash-tagged slot), and BullMQ accepts either.
 */
export function createRedisClient(env: RedisEnv, overrides: RedisOptions = {}): Redis {
  const topology = redisTopology(env, overrides);
  switch (topology.mode) {
    case 'cluster':
      return new Cluster(topology.nodes, topology.options) as unknown as Redis;
    case 'sentinel':
      return new Redis(topology.options);
    case 'standalone':
      return new Redis(topology.url, topology.options);
  }
}
