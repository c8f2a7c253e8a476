// Redis restarted in the middle of a run. The suite runs its OWN redis-server (AOF on,
// noeviction) on a free port — never the shared stack's. While Redis is down the API
// answers 503 and keeps serving liveness; once it is back, the API and the worker
// reconnect by themselves and every job (enqueued before the outage) completes.
// Afterwards the AOF file itself is scanned for clear-text secrets.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QUEUES } from '@kup/core';
import { ensureTraineeClusterRole } from '../helpers/stack.js';
import { eventually, hex, LogCapture, sizeFromEnv, startTestApi, uniquePrefix, type TestApi } from './harness.js';
import { scanFiles, scanText, stackSecrets, type Secret } from './secret-scan.js';
import { inspectAll, verdictOf } from './trainees.js';
import { WorkerProcess } from './worker-process.js';

const N = sizeFromEnv('RELIABILITY_REDIS_CREATES', 8);
const prefix = uniquePrefix('redis');
const tag = `rr${hex(3)}`;
const usernames = Array.from({ length: N }, (_, i) => `${tag}-${i}`);
const late = `${tag}-late`;
const emailOf = (username: string) => `${username}@reliability.example`;
const dir = mkdtempSync(join(tmpdir(), 'kup-rel-redis-'));

let port = 0;
let redis: ChildProcess | undefined;
let api: TestApi;
let worker: WorkerProcess | undefined;
const workerLogs = new LogCapture();
const redisUrl = () => `redis://127.0.0.1:${port}`;

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port: free } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return free;
}

async function startRedis(): Promise<void> {
  redis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--appendonly', 'yes', '--save', '', '--maxmemory-policy', 'noeviction'], { stdio: 'ignore' });
  await eventually('own redis accepts connections', async () => {
    const { Redis } = await import('ioredis');
    const probe = new Redis(redisUrl(), { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    probe.on('error', () => undefined);
    try {
      await probe.connect();
      return (await probe.ping()) === 'PONG' ? true : undefined;
    } finally {
      probe.disconnect();
    }
  }, 20_000, 100);
}

/** SIGTERM: Redis writes its AOF and exits (a restart, as an operator or a pod move does it). */
async function stopRedis(): Promise<void> {
  const child = redis;
  if (!child || child.exitCode !== null) return;
  child.kill('SIGTERM');
  await new Promise((resolve) => child.once('exit', resolve));
}

beforeAll(async () => {
  await ensureTraineeClusterRole();
  port = await freePort();
  await startRedis();
  api = await startTestApi(prefix, { REDIS_URL: redisUrl() });
}, 60_000);

afterAll(async () => {
  await worker?.stop();
  workerLogs.save('redis-restart-worker');
  api?.logs.save('redis-restart-api');
  await api?.close();
  await stopRedis();
  rmSync(dir, { recursive: true, force: true });
}, 120_000);

const auth = () => ({ authorization: `Bearer ${api.token}` });
const post = (method: 'POST' | 'DELETE', username: string) =>
  api.app.inject({ method, url: '/provisioner', headers: auth(), payload: { email: emailOf(username) } });

describe('Redis restarted mid-run', () => {
  const passwords: Secret[] = [];

  it('answers 503 while Redis is down, then loses no job: all complete after it is back', async () => {
    const workerEnv = { QUEUE_PREFIX: prefix, REDIS_URL: redisUrl(), WORKER_CONCURRENCY: '2', JOB_BACKOFF_MS: '500', LOG_LEVEL: 'debug' };
    worker = await WorkerProcess.start(workerEnv, workerLogs);
    for (const username of usernames) expect((await post('POST', username)).statusCode).toBe(202);
    // Down while the first jobs are in flight.
    await eventually('a job is active', async () => ((await api.deps.queues[QUEUES.provisioning].getActiveCount()) > 0 ? true : undefined), 60_000, 100);
    await stopRedis();

    const down = await post('POST', late);
    expect(down.statusCode).toBe(503);
    expect(down.json<{ message: string }>().message).toBeTruthy();
    const jobRead = await api.app.inject({ method: 'GET', url: `/jobs/create-${usernames[0]}`, headers: auth() });
    expect(jobRead.statusCode).toBe(503);
    expect((await api.app.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(503);
    expect((await api.app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
    expect(worker.running).toBe(true);

    await startRedis();
    // The API reconnects by itself: the same request is accepted again.
    await eventually('api accepts again', async () => ((await post('POST', late)).statusCode === 202 ? true : undefined), 30_000, 250);
    expect((await api.app.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(200);

    // The worker reconnects by itself (same process) and finishes every job.
    const all = [...usernames, late];
    await eventually('all jobs finished', async () => {
      const counts = await api.deps.queues[QUEUES.provisioning].getJobCounts('completed', 'failed');
      return (counts.completed ?? 0) + (counts.failed ?? 0) >= all.length ? true : undefined;
    }, 600_000, 1_000);
    expect(worker.running).toBe(true);
    const failed = await api.deps.queues[QUEUES.provisioning].getFailed();
    expect(failed.map((job) => `${job.id}: ${job.failedReason}`)).toEqual([]);
    for (const username of all) {
      const view = (await api.app.inject({ method: 'GET', url: `/jobs/create-${username}`, headers: auth() })).json<{ state: string; result?: { password?: string } }>();
      expect(view.state, username).toBe('completed');
      if (view.result?.password) passwords.push({ kind: 'trainee password', value: view.result.password });
    }
    const states = await inspectAll(all);
    expect(states.filter((s) => verdictOf(s) !== 'complete').map((s) => s.username)).toEqual([]);
  }, 900_000);

  it('has no clear-text password, token or client secret in its AOF file or the logs', async () => {
    expect(passwords.length).toBe(N + 1);
    const secrets = [...stackSecrets(), { kind: 'api token', value: api.token }, ...passwords];
    const findings = [...scanFiles(dir, secrets), ...scanText('worker logs', workerLogs.text(), secrets), ...scanText('api logs', api.logs.text(), secrets)];
    expect(findings).toEqual([]);
  });

  it('cleans up: deletes every trainee', async () => {
    const all = [...usernames, late];
    for (const username of all) expect((await post('DELETE', username)).statusCode).toBe(202);
    await eventually('deletes finished', async () => {
      const counts = await api.deps.queues[QUEUES.provisioning].getJobCounts('completed', 'failed');
      return (counts.completed ?? 0) + (counts.failed ?? 0) >= 2 * all.length ? true : undefined;
    }, 600_000, 1_000);
    expect((await inspectAll(all)).filter((s) => verdictOf(s) !== 'absent').map((s) => s.username)).toEqual([]);
  }, 900_000);
});
