import { z } from 'zod';
import { EXAMPLE_SECRET, bool, hostPorts, notExample } from './schema-helpers.js';

/** Where Redis is (one server, Sentinel or Cluster) and how BullMQ names its keys: API and worker. */
export const redisEnvShape = {
  REDIS_URL: z.string().regex(/^rediss?:\/\//, 'must start with redis:// or rediss://').default('redis://127.0.0.1:6379'),
  /** Redis Sentinel instead of REDIS_URL: `host:port,host:port` of the sentinels, and the master group name. */
  REDIS_SENTINELS: hostPorts.optional(),
  REDIS_SENTINEL_NAME: z.string().min(1).optional(),
  REDIS_SENTINEL_PASSWORD: z.string().min(1).refine(notExample, EXAMPLE_SECRET).optional(),
  /** Redis Cluster instead of REDIS_URL: `host:port,host:port` of some nodes; needs a hash-tagged QUEUE_PREFIX. */
  REDIS_CLUSTER_NODES: hostPorts.optional(),
  /** Credentials and TLS for Sentinel or Cluster nodes (with REDIS_URL they go in the URL). */
  REDIS_USERNAME: z.string().min(1).optional(),
  REDIS_PASSWORD: z.string().min(1).refine(notExample, EXAMPLE_SECRET).optional(),
  REDIS_TLS: bool(false),
  /** Prefix of every BullMQ key; use a hash tag such as `{kup}` with Redis Cluster. */
  QUEUE_PREFIX: z.string().min(1).default('kup'),
};

/** A hash tag (`{…}`): keys sharing it live in one Redis Cluster slot. */
const HASH_TAG = /\{[^{}]+\}/;

/**
 * Checks across the Redis keys: Sentinel and Cluster exclude each other, Sentinel needs
 * its master name, and with Cluster every key of a queue must hash to one slot, so the
 * BullMQ prefix must hold a hash tag.
 */
export function redisTopologyIssues(env: { REDIS_SENTINELS?: string | undefined; REDIS_SENTINEL_NAME?: string | undefined; REDIS_CLUSTER_NODES?: string | undefined; QUEUE_PREFIX: string }): string[] {
  const issues: string[] = [];
  if (env.REDIS_SENTINELS && env.REDIS_CLUSTER_NODES) issues.push('REDIS_SENTINELS: cannot be combined with REDIS_CLUSTER_NODES');
  if (env.REDIS_SENTINELS && !env.REDIS_SENTINEL_NAME) issues.push('REDIS_SENTINEL_NAME: required with REDIS_SENTINELS (the master group name)');
  if (env.REDIS_CLUSTER_NODES && !HASH_TAG.test(env.QUEUE_PREFIX)) {
    issues.push('QUEUE_PREFIX: with REDIS_CLUSTER_NODES it must contain a hash tag such as {kup}, so that each queue stays in one slot');
  }
  return issues;
}
