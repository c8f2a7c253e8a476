// `Prefer: wait`, the default wait and GET /jobs/:id, against a fake worker (wait-fixture.ts).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QUEUES, secretKeyOf } from '@kup/core';
import { eventually } from '../../../test/helpers/poll.js';
import { buildTestApp, redisReady, type TestApp } from '../../../test/helpers/api-app.js';
import { fakeWorker, newUser, outcomes, password, post, startWaitApp, t } from './wait-fixture.js';

beforeAll(startWaitApp);
afterAll(async () => t?.close());

describe('Prefer: wait', () => {
  it('create → 200 in the old shape, with the password and the job id', async () => {
    const secret = password();
    const { username, email } = newUser({ kind: 'created', password: secret });
    const res = await post({ email }, 'respond-async, wait=20');

    expect(res.statusCode).toBe(200);
    expect(res.headers['preference-applied']).toBe('wait=20');
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.json()).toEqual({ message: 'User has been successfully created', user_id: `kc-${username}`, password: secret, username, jobId: `create-${username}` });
  });

  it('an already provisioned user → 409 USER ALREADY EXIST', async () => {
    const { username, email } = newUser({ kind: 'created', password: password(), alreadyProvisioned: true });
    const res = await post({ email }, 'wait=20');
    expect(res.statusCode).toBe(409);
    expect(res.json()).toEqual({ message: 'USER ALREADY EXIST', jobId: `create-${username}` });
  });

  it('a username that belongs to someone else → 409 with the code', async () => {
    const { username, email } = newUser({ kind: 'fail', reason: 'USERNAME_CONFLICT: username already belongs to another user' });
    const res = await post({ email }, 'wait=20');
    expect(res.statusCode).toBe(409);
    expect(res.json()).toEqual({ message: 'username already belongs to another user', code: 'USERNAME_CONFLICT', jobId: `create-${username}` });
  });

  it('an upstream failure → 502 with the code', async () => {
    const { email } = newUser({ kind: 'fail', reason: 'KEYCLOAK_ERROR: keycloak create user answered 403' });
    const res = await post({ email }, 'wait=20');
    expect(res.statusCode).toBe(502);
    expect(res.json()).toMatchObject({ code: 'KEYCLOAK_ERROR', message: 'keycloak create user answered 403' });
  });

  it('delete → 200 in the old shape', async () => {
    const { username, email } = newUser({ kind: 'deleted', found: true });
    const res = await t.inject({ method: 'DELETE', url: '/provisioner', headers: { ...t.auth, prefer: 'wait=20' }, payload: { email } });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ message: 'User has been deleted successfully', user_id: `kc-${username}`, username, jobId: `delete-${username}` });
  });

  it('delete of someone who does not exist → 404 {message, username}; the job itself completes with found: false', async () => {
    const { username, email } = newUser({ kind: 'deleted', found: false });
    const res = await t.inject({ method: 'DELETE', url: '/provisioner', headers: { ...t.auth, prefer: 'wait=20' }, payload: { email } });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toEqual({ message: `No provisioned user found with username: ${username}`, code: 'USER_NOT_FOUND', username, jobId: `delete-${username}` });
    const job = await t.inject({ method: 'GET', url: `/jobs/delete-${username}`, headers: t.auth });
    expect(job.json()).toMatchObject({ state: 'completed', result: { found: false, username } });
  });

  it('without Prefer, a delete of someone who does not exist is a 202 whose job completes with found: false', async () => {
    const { username, email } = newUser({ kind: 'deleted', found: false });
    const res = await t.inject({ method: 'DELETE', url: '/provisioner', headers: t.auth, payload: { email } });
    expect(res.statusCode).toBe(202);
    const view = await eventually('the delete job', async () => {
      const job = (await t.inject({ method: 'GET', url: `/jobs/delete-${username}`, headers: t.auth })).json();
      return job.state === 'completed' ? job : undefined;
    }, 20_000);
    expect(view.result).toMatchObject({ found: false, username, userId: null });
  });

  it('time running out → the usual 202', async () => {
    let release!: () => void;
    const { username, email } = newUser({ kind: 'hold', release: new Promise<void>((resolve) => (release = resolve)) });
    try {
      const started = Date.now();
      const res = await post({ email }, 'wait=1');
      expect(res.statusCode).toBe(202);
      expect(res.headers['preference-applied']).toBe('wait=1');
      expect(res.json()).toEqual({ jobId: `create-${username}`, statusUrl: `/jobs/create-${username}`, username });
      expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    } finally {
      release();
    }
  });
});

describe('DEFAULT_PREFER_WAIT_SECONDS: old callers, who send no Prefer, get the synchronous answer', () => {
  let legacy: TestApp;
  beforeAll(async () => {
    legacy = await buildTestApp({ DEFAULT_PREFER_WAIT_SECONDS: '20' });
    await redisReady(legacy);
    legacy.startWorker(fakeWorker);
  });
  afterAll(async () => legacy?.close());

  it('POST and DELETE /provisioner without Prefer → 200 with the old messages', async () => {
    const { username, email } = newUser({ kind: 'created', password: password() });
    const created = await legacy.inject({ method: 'POST', url: '/provisioner', headers: legacy.auth, payload: { email } });
    expect(created.statusCode, created.body).toBe(200);
    expect(created.headers['preference-applied']).toBe('wait=20');
    expect(created.json()).toMatchObject({ message: 'User has been successfully created', username });

    outcomes.set(username, { kind: 'deleted', found: true });
    const deleted = await legacy.inject({ method: 'DELETE', url: '/provisioner', headers: legacy.auth, payload: { email } });
    expect(deleted.statusCode, deleted.body).toBe(200);
    expect(deleted.json()).toMatchObject({ message: 'User has been deleted successfully', username });
  });

  it('an explicit Prefer still decides (wait=0: do not wait)', async () => {
    const { email } = newUser({ kind: 'deleted', found: true });
    const res = await legacy.inject({ method: 'DELETE', url: '/provisioner', headers: { ...legacy.auth, prefer: 'wait=0' }, payload: { email } });
    expect(res.statusCode).toBe(202);
  });

  it('off by default: no Prefer → 202', async () => {
    const { email } = newUser({ kind: 'deleted', found: true });
    const res = await t.inject({ method: 'DELETE', url: '/provisioner', headers: t.auth, payload: { email } });
    expect(res.statusCode).toBe(202);
  });
});

describe('GET /jobs/:id', () => {
  it('shows a finished create with its progress, result and decrypted password', async () => {
    const secret = password();
    const { username, email } = newUser({ kind: 'created', password: secret });
    const { jobId } = (await post({ email })).json();
    const view = await eventually('the create job to complete', async () => {
      const body = (await t.inject({ method: 'GET', url: `/jobs/${jobId}`, headers: t.auth })).json<Record<string, any>>();
      return body.state === 'completed' ? body : undefined;
    }, 10_000, 50);

    expect(view).toMatchObject({ id: jobId, type: 'create', state: 'completed', attemptsMade: 1, progress: { step: 'finish', done: 9, total: 9 } });
    expect(view.result).toEqual({ username, userId: `kc-${username}`, email, alreadyProvisioned: false, passwordIssued: true, namespace: username, password: secret });
    expect(Date.parse(view.finishedAt)).toBeGreaterThanOrEqual(Date.parse(view.createdAt));
    // Bull Board shows the stored result: only the flag, never the password.
    const job = await t.deps.queues[QUEUES.provisioning].getJob(jobId);
    expect(JSON.stringify(job?.returnvalue)).not.toContain(secret);
    expect(JSON.stringify(job?.data)).not.toContain(secret);
  });

  it('omits the password once it was purged', async () => {
    const { email } = newUser({ kind: 'created', password: password() });
    const first = await post({ email }, 'wait=20');
    expect(first.statusCode).toBe(200);
    const job = await t.deps.queues[QUEUES.provisioning].getJob(first.json().jobId);
    await t.deps.secrets.remove(secretKeyOf(job!));
    const view = (await t.inject({ method: 'GET', url: `/jobs/${first.json().jobId}`, headers: t.auth })).json();
    expect(view.result.passwordIssued).toBe(true);
    expect(view.result).not.toHaveProperty('password');
  });

  it('shows a failed job\'s error code, or INTERNAL when the reason has none', async () => {
    const conflict = newUser({ kind: 'fail', reason: 'USERNAME_CONFLICT: taken' });
    const crash = newUser({ kind: 'fail', reason: 'something broke' });
    for (const [user, expected] of [[conflict, { code: 'USERNAME_CONFLICT', message: 'taken' }], [crash, { code: 'INTERNAL', message: 'something broke' }]] as const) {
      const { jobId } = (await post({ email: user.email })).json();
      const view = await eventually('the job to fail', async () => {
        const res = (await t.inject({ method: 'GET', url: `/jobs/${jobId}`, headers: t.auth })).json();
        return res.state === 'failed' ? res : undefined;
      }, 10_000, 50);
      expect(view.error).toEqual(expected);
      expect(view.result).toBeUndefined();
    }
  });
});
