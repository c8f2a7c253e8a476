// POST /sync {"dryRun": true} through the API against the stack's Redis (no worker: runs stay
// pending): a dry run is a run of its own, a pending one answers only dry runs, and a bad
// flag is a 400 that enqueues nothing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, redisReady, type TestApp } from '../helpers/api-app.js';

describe('API: POST /sync dry run', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await buildTestApp();
    await redisReady(t);
  });
  afterAll(async () => {
    await t?.close();
  });

  it('a dry run neither answers nor replaces a pending real sync, nor the other way round', async () => {
    const post = (payload: object) => t.inject({ method: 'POST', url: '/sync', headers: t.auth, payload });
    const real = await post({});
    expect(real.statusCode, real.body).toBe(202);
    expect(real.json()).toEqual({ jobId: 'sync', statusUrl: '/jobs/sync', alreadyPending: false });

    const dry = await post({ dryRun: true });
    expect(dry.statusCode, dry.body).toBe(202);
    expect(dry.json()).toEqual({ jobId: 'sync.dry-run', statusUrl: '/jobs/sync.dry-run', alreadyPending: false });
    expect((await t.deps.queues.fleet.getJob('sync.dry-run'))?.data).toMatchObject({ dryRun: true, origin: 'api' });

    expect((await post({ dryRun: true })).json()).toMatchObject({ jobId: 'sync.dry-run', alreadyPending: true });
    expect((await post({ dryRun: false })).json()).toMatchObject({ jobId: 'sync', alreadyPending: true });
    expect((await t.deps.queues.fleet.getJob('sync'))?.data).not.toHaveProperty('dryRun');

    const single = await post({ username: 'ana', dryRun: true });
    expect(single.json()).toMatchObject({ jobId: 'sync.dry-run-ana', alreadyPending: false });
    const status = await t.inject({ method: 'GET', url: '/jobs/sync.dry-run-ana', headers: t.auth });
    expect(status.statusCode, status.body).toBe(200);
    expect(status.json()).toMatchObject({ id: 'sync.dry-run-ana', type: 'sync' });
  });

  it('a dryRun that is not a boolean is a 400 naming it, and nothing is enqueued', async () => {
    const before = await t.jobCount();
    const response = await t.inject({ method: 'POST', url: '/sync', headers: t.auth, payload: { dryRun: 'yes' } });
    expect(response.statusCode).toBe(400);
    expect(JSON.stringify(response.json().details)).toContain('dryRun');
    expect(await t.jobCount()).toBe(before);
  });
});
