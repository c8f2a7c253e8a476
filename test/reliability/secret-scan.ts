// Looks for clear-text secrets where they must never be: captured log lines, every Redis
// key and value under a queue prefix (read by type, since DUMP compresses), and files
// such as Redis's AOF.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';

export interface Secret {
  kind: string;
  value: string;
}

export interface Finding {
  where: string;
  kind: string;
}

/** The stack's long-lived secrets: API tokens, the Keycloak client secret, Grafana's admin password, the sealing key. */
export function stackSecrets(): Secret[] {
  const secrets: Secret[] = [];
  for (const token of (process.env.API_TOKENS ?? '').split(',').filter(Boolean)) secrets.push({ kind: 'api token', value: token });
  for (const [kind, name] of [
    ['keycloak client secret', 'KEYCLOAK_CLIENT_SECRET'],
    ['grafana admin password', 'GRAFANA_ADMIN_PASSWORD'],
    ['result encryption key', 'RESULT_ENCRYPTION_KEY'],
  ] as const) {
    const value = process.env[name];
    if (value) secrets.push({ kind, value });
  }
  return secrets;
}

export function scanText(where: string, text: string, secrets: readonly Secret[]): Finding[] {
  return secrets.filter((s) => s.value.length >= 8 && text.includes(s.value)).map((s) => ({ where, kind: s.kind }));
}

/** Every key under `prefix:` with its value(s), as text. */
export async function redisDump(redisUrl: string, prefix: string): Promise<Map<string, string>> {
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
  const dump = new Map<string, string>();
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      for (const key of keys) dump.set(key, await readValue(redis, key));
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
  return dump;
}

async function readValue(redis: Redis, key: string): Promise<string> {
  switch (await redis.type(key)) {
    case 'string':
      return (await redis.get(key)) ?? '';
    case 'hash':
      return JSON.stringify(await redis.hgetall(key));
    case 'list':
      return JSON.stringify(await redis.lrange(key, 0, -1));
    case 'set':
      return JSON.stringify(await redis.smembers(key));
    case 'zset':
      return JSON.stringify(await redis.zrange(key, '0', '-1', 'WITHSCORES'));
    case 'stream':
      return JSON.stringify(await redis.xrange(key, '-', '+'));
    default:
      return '';
  }
}

export async function scanRedis(redisUrl: string, prefix: string, secrets: readonly Secret[]): Promise<{ keys: number; findings: Finding[] }> {
  const dump = await redisDump(redisUrl, prefix);
  const findings: Finding[] = [];
  for (const [key, value] of dump) findings.push(...scanText(`redis ${key}`, `${key}\n${value}`, secrets));
  return { keys: dump.size, findings };
}

/** Every file under `dir` (e.g. Redis's appendonlydir), read as latin1 so any bytes match. */
export function scanFiles(dir: string, secrets: readonly Secret[]): Finding[] {
  const findings: Finding[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) findings.push(...scanFiles(path, secrets));
    else findings.push(...scanText(path, readFileSync(path).toString('latin1'), secrets));
  }
  return findings;
}
