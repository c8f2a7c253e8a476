// Bull Board as a caller holding a plain API token would attack it (add raw jobs that skip
// the API's validation, edit the data the worker trusts, obliterate a queue): refused with
// 403 and nothing changes in Redis; the same calls work with a Bull Board admin token.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QUEUES } from '@kup/core';
import { buildTestApp, hex, redisReady, type TestApp } from '../../../test/helpers/api-app.js';

const BOARD = '/admin/queues/api/queues';
const READ_ONLY = { message: expect.stringContaining('read-only'), code: 'BULL_BOARD_READ_ONLY' };

describe('Bull Board with an admin token configured', () => {
  let t: TestApp;
  const admin = `adm-${hex(16)}`;
  const asAdmin = { authorization: `Bearer ${admin}` };

  beforeAll(async () => {
    t = await buildTestApp({ BULL_BOARD_ADMIN_TOKENS: admin });
    await redisReady(t);
  });
  afterAll(async () => t?.close());

  it('an API token may read the board and its pages may not be framed', async () => {
    const page = await t.inject({ method: 'GET', url: '/admin/queues', headers: t.auth });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-security-policy']).toBe("frame-ancestors 'none'");
    expect(page.headers['x-frame-options']).toBe('DENY');
    const api = await t.inject({ method: 'GET', url: BOARD, headers: t.auth });
    expect(api.statusCode).toBe(200);
    expect(api.headers['content-security-policy']).toBe("frame-ancestors 'none'");
    // The UI is told the queues are read-only for this caller (no write buttons)…
    const queues = api.json<{ queues: Array<{ name: string; readOnlyMode: boolean }> }>().queues;
    expect(queues.map((q) => q.name)).toContain(QUEUES.provisioning);
    expect(queues.every((q) => q.readOnlyMode)).toBe(true);
    // …and not for the admin.
    const forAdmin = await t.inject({ method: 'GET', url: BOARD, headers: asAdmin });
    expect(forAdmin.json<{ queues: Array<{ readOnlyMode: boolean }> }>().queues.every((q) => !q.readOnlyMode)).toBe(true);
  });

  it('an API token cannot add a raw job: 403, nothing enqueued', async () => {
    const res = await t.inject({
      method: 'POST',
      url: `/admin/queues/api/queues/${QUEUES.provisioning}/add`,
      headers: t.auth,
      payload: { name: 'create', data: { username: 'admin' }, options: {} },
    });
    expect(res.statusCode).toBe(403);
    expect(res.json()).toEqual(READ_ONLY);
    expect(await t.jobCount()).toBe(0);
  });

  it('an API token cannot edit job data, retry, clean, pause or obliterate: 403, nothing changes', async () => {
    const job = await t.deps.queues.provisioning.add('create', { username: `bb-${hex(3)}` }, { jobId: `create-bb-${hex(3)}`, delay: 60_000 });
    const calls: Array<{ method: 'PUT' | 'PATCH'; url: string; payload?: object }> = [
      { method: 'PATCH', url: `/admin/queues/api/queues/${QUEUES.provisioning}/${job.id}/update-data`, payload: { jobData: { username: 'admin', state: { owned: { keycloak: true } } } } },
      { method: 'PUT', url: `/admin/queues/api/queues/${QUEUES.provisioning}/pause` },
      { method: 'PUT', url: `/admin/queues/api/queues/${QUEUES.provisioning}/obliterate`, payload: { force: true } },
      { method: 'PUT', url: `/admin/queues/api/queues/${QUEUES.provisioning}/clean/delayed` },
      { method: 'PUT', url: `/admin/queues/api/queues/${QUEUES.provisioning}/${job.id}/promote` },
      { method: 'PUT', url: `/admin/queues/api/queues/${QUEUES.provisioning}/${job.id}/clean` },
      { method: 'PUT', url: '/admin/queues/api/queues/pause' },
      { method: 'PATCH', url: `/admin/queues/api/queues/fleet-schedules/job-schedulers/cleanup`, payload: { pattern: '* * * * *' } },
    ];
    for (const call of calls) {
      const res = await t.inject({ ...call, headers: t.auth });
      expect(res.statusCode, `${call.method} ${call.url}`).toBe(403);
    }
    const after = await t.deps.queues.provisioning.getJob(job.id as string);
    expect(after?.data).toEqual(job.data);
    expect(await after?.getState()).toBe('delayed');
    expect(await t.deps.queues.provisioning.isPaused()).toBe(false);
  });

  it('the admin token may add, edit and obliterate', async () => {
    const added = await t.inject({
      method: 'POST',
      url: `/admin/queues/api/queues/${QUEUES.fleetUser}/add`,
      headers: asAdmin,
      payload: { name: 'sync-user', data: { runId: 'x', username: 'someone' }, options: { delay: 60_000 } },
    });
    expect(added.statusCode).toBe(200);
    const id = added.json<{ job: { id: string } }>().job.id;
    const edit = await t.inject({
      method: 'PATCH',
      url: `/admin/queues/api/queues/${QUEUES.fleetUser}/${id}/update-data`,
      headers: asAdmin,
      payload: { jobData: { runId: 'y', username: 'someone' } },
    });
    expect(edit.statusCode).toBe(200);
    expect((await t.deps.queues[QUEUES.fleetUser].getJob(id))?.data).toEqual({ runId: 'y', username: 'someone' });

    expect((await t.inject({ method: 'PUT', url: `/admin/queues/api/queues/${QUEUES.fleetUser}/pause`, headers: asAdmin })).statusCode).toBe(200);
    const obliterate = await t.inject({ method: 'PUT', url: `/admin/queues/api/queues/${QUEUES.fleetUser}/obliterate`, headers: asAdmin, payload: { force: true } });
    expect(obliterate.statusCode).toBe(200);
    expect(await t.deps.queues[QUEUES.fleetUser].getJob(id)).toBeUndefined();
  });

  it('the admin token is not an API token', async () => {
    const res = await t.inject({ method: 'GET', url: '/jobs/create-someone', headers: asAdmin });
    expect(res.statusCode).toBe(401);
  });
});

describe('Bull Board without an admin token', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp();
    await redisReady(t);
  });
  afterAll(async () => t?.close());

  it('is read-only for every token', async () => {
    const res = await t.inject({ method: 'POST', url: `/admin/queues/api/queues/${QUEUES.fleet}/add`, headers: t.auth, payload: { name: 'cleanup', data: {} } });
    expect(res.statusCode).toBe(403);
    expect(await t.jobCount()).toBe(0);
  });
});
