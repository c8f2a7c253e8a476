// Real Redis for the store tests: REDIS_URL comes from the integration globalSetup.
import { Redis } from 'ioredis';

export function connectRedis(): Redis {
  const url = process.env.REDIS_URL;
  if (!url) throw new Error('REDIS_URL is not set (the integration globalSetup provides the stack env)');
  return new Redis(url, { maxRetriesPerRequest: 1 });
}

/** A key prefix of this test's own, so parallel tests never share keys. */
export { uniquePrefix } from '../../../../test/helpers/names.js';

export async function deleteKeys(redis: Redis, prefix: string): Promise<void> {
  const keys: string[] = [];
  for await (const batch of redis.scanStream({ match: `${prefix}:*`, count: 100 })) keys.push(...(batch as string[]));
  if (keys.length > 0) await redis.del(...keys);
}
