// The fleet routes of the API against the stack's Redis, with stand-in workers on the
// fleet queue: optional bodies (the old CronJobs' empty JSON POST), validation, auth,
// dedup, Prefer: wait answers (200 with the statistics, 404 for an unknown user), schedules.
import { Queue, UnrecoverableError, Worker, type Job } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FLEET_SCHEDULES_QUEUE, QUEUES } from '@kup/core';
import { buildTestApp, redisReady, type TestApp } from '../helpers/api-app.js';

describe('API: fleet routes', () => {
  let t: TestApp;
  const workers: Worker[] = [];
  const fleetWorker = (processor: (job: Job<{ username?: string }>) => Promise<unknown>) => {
    const worker = new Worker(QUEUES.fleet, processor, { connection: { url: t.config.REDIS_URL }, prefix: t.config.QUEUE_PREFIX });
    worker.on('error', () => undefined);
    workers.push(worker);
    return worker;
  };

  beforeAll(async () => {
    t = await buildTestApp({ MAX_WAIT_SECONDS: '20' });
    await redisReady(t);
  });
  afterAll(async () => {
    await Promise.allSettled(workers.map((w) => w.close(true)));
    await t?.close();
  });

  it('an empty JSON body works (the old CronJobs), and a second POST answers the pending run', async () => {
    const first = await t.inject({ method: 'POST', url: '/reset', headers: { ...t.auth, 'content-type': 'application/json' } });
    expect(first.statusCode, first.body).toBe(202);
    expect(first.json()).toEqual({ jobId: 'reset', statusUrl: '/jobs/reset', alreadyPending: false });
    const job = await t.deps.queues.fleet.getJob('reset');
    expect(job?.data).toMatchObject({ mode: 'recreate', origin: 'api' });
    // The same request (the default mode spelled out) is answered; another mode is a 409 (pending-run-conflict.test.ts).
    const second = await t.inject({ method: 'POST', url: '/reset', headers: t.auth, payload: { mode: 'recreate' } });
    expect(second.json()).toMatchObject({ jobId: 'reset', alreadyPending: true });
    expect((await t.deps.queues.fleet.getJob('reset'))?.data.runId).toBe(job?.data.runId);
    for (const url of ['/cleanup', '/sync']) {
      const response = await t.inject({ method: 'POST', url, headers: { ...t.auth, 'content-type': 'application/json' }, payload: '' });
      expect(response.statusCode, url).toBe(202);
    }
    expect((await t.deps.queues.fleet.getJob('cleanup'))?.data).toMatchObject({ maxAgeDays: 365, dryRun: false });
  });

  it('bad input is a 400 with the field, and nothing is enqueued; no token is a 401', async () => {
    const before = await t.jobCount();
    const cases = [
      ['/cleanup', { maxAgeDays: -1 }, 'maxAgeDays'],
      ['/cleanup', { dryRun: 'yes' }, 'dryRun'],
      ['/reset', { mode: 'wipe' }, 'mode'],
      ['/sync', { username: 'Not A Label' }, 'username'],
      ['/sync', { surprise: 1 }, ''],
    ] as const;
    for (const [url, payload, field] of cases) {
      const response = await t.inject({ method: 'POST', url, headers: t.auth, payload });
      expect(response.statusCode, `${url} ${JSON.stringify(payload)}`).toBe(400);
      expect(JSON.stringify(response.json().details)).toContain(field);
    }
    expect(await t.jobCount()).toBe(before);
    const anonymous = await t.inject({ method: 'POST', url: '/sync', headers: { 'content-type': 'application/json' } });
    expect(anonymous.statusCode).toBe(401);
    expect(anonymous.json()).toEqual({ message: 'Please submit a valid token' });
  });

  it('Prefer: wait answers the old statistics (200), or 404 when the single user is unknown', async () => {
    fleetWorker(async (job) => {
      if (job.data.username) throw new UnrecoverableError(`USER_NOT_FOUND: no provisioned user "${job.data.username}"`);
      return { message: 'Reset (recreate) finished', users_processed: 0, namespaces_reset: 0, failed_resets: [], failures: [], mode: 'recreate' };
    });
    const missing = await t.inject({ method: 'POST', url: '/reset', headers: { ...t.auth, prefer: 'wait=15' }, payload: { username: 'nobody-here' } });
    expect(missing.statusCode, missing.body).toBe(404);
    expect(missing.json()).toEqual({ message: 'No provisioned user found with username: nobody-here', code: 'USER_NOT_FOUND', jobId: 'reset-nobody-here' });

    // The pending `reset` from the first test is processed now; a new one replaces it once finished.
    await t.inject({ method: 'POST', url: '/reset', headers: { ...t.auth, prefer: 'wait=15' } });
    const done = await t.inject({ method: 'POST', url: '/reset', headers: { ...t.auth, prefer: 'wait=15' } });
    expect(done.statusCode, done.body).toBe(200);
    expect(done.json()).toMatchObject({ users_processed: 0, namespaces_reset: 0, failed_resets: [], jobId: 'reset' });
    expect(done.headers['preference-applied']).toBe('wait=15');
  });

  it('GET /schedules lists the schedulers with their next run', async () => {
    const schedules = new Queue(FLEET_SCHEDULES_QUEUE, { connection: { url: t.config.REDIS_URL }, prefix: t.config.QUEUE_PREFIX });
    try {
      await schedules.upsertJobScheduler('reset', { pattern: '0 0 1 * *', tz: 'Europe/Paris' }, { name: 'reset', data: { mode: 'purge' } });
      const response = await t.inject({ method: 'GET', url: '/schedules', headers: t.auth });
      expect(response.statusCode, response.body).toBe(200);
      const [reset] = response.json().schedules;
      expect(reset).toMatchObject({ id: 'reset', kind: 'reset', pattern: '0 0 1 * *', tz: 'Europe/Paris', data: { mode: 'purge' } });
      expect(Date.parse(reset.next)).toBeGreaterThan(Date.now());
    } finally {
      await schedules.obliterate({ force: true });
      await schedules.close();
    }
  });

  it('the OpenAPI document describes the fleet routes', async () => {
    const response = await t.inject({ method: 'GET', url: '/docs/json' });
    expect(response.statusCode).toBe(200);
    const paths = Object.keys(response.json().paths);
    expect(paths).toEqual(expect.arrayContaining(['/reset', '/cleanup', '/sync', '/schedules']));
  });
});
