// REDIS_SENTINELS and REDIS_CLUSTER_NODES against real servers: a Sentinel watching a
// master, and a one-node Redis Cluster, both started by this file on free ports (never
// the shared stack's Redis). Queues, a worker, the secret store and the user lock work
// through `createRedisClient` in both topologies.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, Sealer, SecretStore, UserLock, commonEnv, createRedisClient, type RedisEnv } from '@kup/core';
import { randomSuffix } from '../helpers/names.js';
import { eventually } from '../helpers/stack.js';

const dir = mkdtempSync(join(tmpdir(), 'kup-redis-topology-'));
const children: ChildProcess[] = [];
const clients: Redis[] = [];

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

function redisServer(args: string[]): ChildProcess {
  const child = spawn('redis-server', args, { cwd: dir, stdio: 'ignore' });
  children.push(child);
  return child;
}

function env(vars: Record<string, string>): RedisEnv {
  return commonEnv.parse({ RESULT_ENCRYPTION_KEY: randomBytes(32).toString('base64'), ...vars });
}

function client(config: RedisEnv): Redis {
  const redis = createRedisClient(config, { maxRetriesPerRequest: null });
  redis.on('error', () => undefined);
  clients.push(redis);
  return redis;
}

/** A job through a queue and a worker, a sealed secret and a lock: what the service does with Redis. */
async function exercise(redis: Redis, prefix: string): Promise<void> {
  expect(await redis.ping()).toBe('PONG');
  const name = `topology-${randomSuffix()}`;
  const queue = new Queue(name, { connection: redis, prefix });
  const worker = new Worker(name, async (job) => ({ doubled: (job.data as { n: number }).n * 2 }), { connection: redis, prefix });
  queue.on('error', () => undefined);
  worker.on('error', () => undefined);
  try {
    const job = await queue.add('double', { n: 21 }, { jobId: 'double-1' });
    const done = await eventually('job completed', async () => ((await job.getState()) === 'completed' ? queue.getJob('double-1') : undefined), 20_000, 100);
    expect(done?.returnvalue).toEqual({ doubled: 42 });

    const secrets = new SecretStore(redis, Sealer.fromEncodedKey(randomBytes(32).toString('base64')), prefix, 60);
    await secrets.put('create-x', 'pw-1');
    expect(await secrets.get('create-x')).toBe('pw-1');
    const locks = new UserLock(redis, prefix);
    expect(await locks.acquire('alice', 'holder-1')).toBe(true);
    expect(await locks.acquire('alice', 'holder-2')).toBe(false);
    await locks.release('alice', 'holder-1');
  } finally {
    await worker.close();
    await queue.obliterate({ force: true }).catch(() => undefined);
    await queue.close();
  }
}

afterAll(async () => {
  for (const redis of clients) redis.disconnect();
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  await Promise.all(children.map((child) => (child.exitCode !== null ? undefined : new Promise((resolve) => child.once('exit', resolve)))));
  rmSync(dir, { recursive: true, force: true });
});

describe('Redis Sentinel', () => {
  let sentinelPort: number;
  const master = `kup-${randomSuffix()}`;

  beforeAll(async () => {
    const masterPort = await freePort();
    redisServer(['--port', String(masterPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no']);
    sentinelPort = await freePort();
    const conf = join(dir, 'sentinel.conf');
    writeFileSync(conf, `port ${sentinelPort}\nbind 127.0.0.1\nsentinel monitor ${master} 127.0.0.1 ${masterPort} 1\n`);
    redisServer([conf, '--sentinel']);
    const probe = client(env({ REDIS_URL: `redis://127.0.0.1:${sentinelPort}` }));
    await eventually('sentinel knows the master', async () => {
      const address = (await probe.call('SENTINEL', 'get-master-addr-by-name', master).catch(() => null)) as string[] | null;
      return address?.[1] === String(masterPort) ? true : undefined;
    }, 20_000, 200);
  });

  it('finds the master through the sentinels and runs jobs there', async () => {
    const config = env({ REDIS_SENTINELS: `127.0.0.1:${sentinelPort}`, REDIS_SENTINEL_NAME: master, QUEUE_PREFIX: `t-${randomSuffix()}` });
    await exercise(client(config), config.QUEUE_PREFIX);
  });
});

describe('Redis Cluster', () => {
  let nodePort: number;

  beforeAll(async () => {
    nodePort = await freePort();
    redisServer([
      '--port', String(nodePort),
      '--bind', '127.0.0.1',
      '--cluster-enabled', 'yes',
      '--cluster-config-file', `nodes-${nodePort}.conf`,
      // Alone, a node does not know its address and announces "" in CLUSTER SLOTS.
      '--cluster-announce-ip', '127.0.0.1',
      '--save', '',
      '--appendonly', 'no',
    ]);
    const admin = client(env({ REDIS_URL: `redis://127.0.0.1:${nodePort}` }));
    await eventually('node up', async () => ((await admin.ping().catch(() => undefined)) === 'PONG' ? true : undefined), 20_000, 100);
    await admin.call('CLUSTER', 'ADDSLOTSRANGE', '0', '16383');
    await eventually('cluster ok', async () => (String(await admin.call('CLUSTER', 'INFO')).includes('cluster_state:ok') ? true : undefined), 20_000, 200);
  });

  it('runs jobs, secrets and locks under a hash-tagged prefix', async () => {
    const config = env({ REDIS_CLUSTER_NODES: `127.0.0.1:${nodePort}`, QUEUE_PREFIX: `{t-${randomSuffix()}}` });
    await exercise(client(config), config.QUEUE_PREFIX);
  });

  it('refuses a prefix without a hash tag before connecting', () => {
    const config = env({ REDIS_CLUSTER_NODES: `127.0.0.1:${nodePort}`, QUEUE_PREFIX: 'kup' });
    expect(() => createRedisClient(config)).toThrow(ConfigError);
  });
});
