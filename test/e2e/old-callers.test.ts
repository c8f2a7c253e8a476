// The old service's callers, unchanged, against the real API listening on a port: the old
// CronJobs' exact call (`curl -X POST` with the token header, `Content-Type: application/json`,
// no body) on /reset and /cleanup, and DEFAULT_PREFER_WAIT_SECONDS answering them
// synchronously, as the old service did. A stand-in worker on the fleet queue ends each run
// with the real aggregation (the real fleet runs would touch every trainee of the shared stack).
import { spawn } from 'node:child_process';
import { Worker, type Job } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { aggregateCleanup, aggregateReset, aggregateSync, QUEUES, type FleetRunData } from '@kup/core';
import { buildTestApp, redisReady, type TestApp } from '../helpers/api-app.js';

/** `curl -X POST <url> -H 'Authorization: <token>' -H 'Content-Type: application/json'`, as the CronJobs ran it. */
function oldCronJobCall(url: string, token: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const args = ['-sS', '-X', 'POST', url, '-H', `Authorization: ${token}`, '-H', 'Content-Type: application/json', '-w', '\n%{http_code}'];
    const child = spawn('curl', args);
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk) => (out += String(chunk)));
    child.stderr.on('data', (chunk) => (err += String(chunk)));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`curl exited ${code}: ${err}`));
      const cut = out.lastIndexOf('\n');
      resolve({ status: Number(out.slice(cut + 1)), body: out.slice(0, cut) });
    });
  });
}

async function listening(env: Record<string, string>) {
  const t = await buildTestApp({ MAX_WAIT_SECONDS: '30', ...env });
  await redisReady(t);
  const url = await t.app.listen({ port: 0, host: '127.0.0.1' });
  return { t, url };
}

/** Ends fleet runs as the real worker would with no trainee in scope, recording what was asked. */
function standInFleetWorker(t: TestApp, seen: { name: string; data: FleetRunData }[]): Worker {
  const worker = new Worker(
    QUEUES.fleet,
    async (job: Job<FleetRunData>) => {
      seen.push({ name: job.name, data: job.data });
      const none = { values: [], failures: [] };
      if (job.name === 'reset') return aggregateReset(none, 'recreate', 'username' in job.data ? job.data.username : undefined);
      if (job.name === 'cleanup') return aggregateCleanup(none, false);
      return aggregateSync(none, (u) => u);
    },
    { connection: { url: t.config.REDIS_URL }, prefix: t.config.QUEUE_PREFIX },
  );
  worker.on('error', () => undefined);
  return worker;
}

describe('the old CronJobs\' call, with DEFAULT_PREFER_WAIT_SECONDS set: the old synchronous answers', () => {
  let s: Awaited<ReturnType<typeof listening>>;
  let worker: Worker;
  const seen: { name: string; data: FleetRunData }[] = [];
  beforeAll(async () => {
    s = await listening({ DEFAULT_PREFER_WAIT_SECONDS: '20' });
    worker = standInFleetWorker(s.t, seen);
  });
  afterAll(async () => {
    await worker?.close(true);
    await s?.t.close();
  });

  it('POST /reset → 200 All provisioned namespaces have been reset successfully', async () => {
    const res = await oldCronJobCall(`${s.url}/reset`, s.t.tokens[0]);
    expect(res.status, res.body).toBe(200);
    expect(JSON.parse(res.body)).toMatchObject({
      message: 'All provisioned namespaces have been reset successfully',
      users_processed: 0,
      namespaces_reset: 0,
      failed_resets: [],
      jobId: 'reset',
    });
    expect(seen.find((j) => j.name === 'reset')?.data).toMatchObject({ mode: 'recreate', origin: 'api' });
  });

  it('POST /cleanup → 200 Cleanup completed, failed_deletions a list', async () => {
    const res = await oldCronJobCall(`${s.url}/cleanup`, s.t.tokens[0]);
    expect(res.status, res.body).toBe(200);
    expect(JSON.parse(res.body)).toMatchObject({ message: 'Cleanup completed', deleted_users: [], failed_deletions: [], total_processed: 0, jobId: 'cleanup' });
    expect(seen.find((j) => j.name === 'cleanup')?.data).toMatchObject({ maxAgeDays: 365, dryRun: false });
  });

  it('POST /sync → 200 Sync completed for all users', async () => {
    const res = await oldCronJobCall(`${s.url}/sync`, s.t.tokens[0]);
    expect(res.status, res.body).toBe(200);
    expect(JSON.parse(res.body)).toMatchObject({ message: 'Sync completed for all users', results: { total_users: 0 } });
  });

  it('a caller can still ask not to wait (Prefer: wait=0 → 202)', async () => {
    const res = await fetch(`${s.url}/reset`, { method: 'POST', headers: { authorization: s.t.tokens[0], 'content-type': 'application/json', prefer: 'wait=0' } });
    expect(res.status).toBe(202);
    expect(res.headers.get('preference-applied')).toBeNull();
  });

  it('the token is still checked: the old 401', async () => {
    const res = await oldCronJobCall(`${s.url}/cleanup`, 'not-the-token');
    expect(res.status).toBe(401);
    expect(JSON.parse(res.body)).toEqual({ message: 'Please submit a valid token' });
  });
});

describe('the old CronJobs\' call without the setting (the default): a 202 and a queued run', () => {
  let s: Awaited<ReturnType<typeof listening>>;
  beforeAll(async () => {
    s = await listening({});
  });
  afterAll(async () => s?.t.close());

  it.each(['reset', 'cleanup'])('POST /%s → 202 with the run', async (kind) => {
    const res = await oldCronJobCall(`${s.url}/${kind}`, s.t.tokens[0]);
    expect(res.status, res.body).toBe(202);
    expect(JSON.parse(res.body)).toMatchObject({ jobId: kind, statusUrl: `/jobs/${kind}` });
    expect(await s.t.deps.queues.fleet.getJob(kind)).toBeDefined();
  });
});
