import { UnrecoverableError, type Job } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createJobResult, deleteJobResult, JOBS, QUEUES, secretKeyOf, type CreateJobResult, type DeleteJobResult } from '@kup/core';
import { eventually } from '../../../test/helpers/poll.js';
import { buildTestApp, hex, redisReady, type TestApp } from './helpers.js';

/**
 * A fake worker stands in for apps/worker: per username it completes the job with a
 * contract-valid result (and a sealed password, as the worker stores it), fails it with
 * `CODE: message`, or holds it until released.
 */
type Outcome =
  | { kind: 'created'; password: string; alreadyProvisioned?: boolean }
  | { kind: 'deleted'; found: boolean }
  | { kind: 'fail'; reason: string }
  | { kind: 'hold'; release: Promise<void> };

let t: TestApp;
const outcomes = new Map<string, Outcome>();
const processed: string[] = [];

async function fakeWorker(job: Job): Promise<CreateJobResult | DeleteJobResult> {
  const username: string = job.name === JOBS.create ? job.data.username : job.data.usernames[0];
  processed.push(`${job.id}@${job.timestamp}`);
  const outcome = outcomes.get(username);
  if (!outcome) throw new UnrecoverableError(`TEST_SETUP: no outcome for ${username}`);
  if (outcome.kind === 'hold') await outcome.release;
  if (outcome.kind === 'fail') throw new UnrecoverableError(outcome.reason);
  if (outcome.kind === 'deleted' || job.name === JOBS.delete) {
    // A create's outcome deletes that trainee when a delete comes for it.
    const found = outcome.kind === 'deleted' ? outcome.found : true;
    return deleteJobResult.parse({ username, userId: found ? `kc-${username}` : null, found, removed: { namespace: found, keycloak: found, grafana: found } });
  }
  await job.updateProgress({ step: 'grafana-user', done: 7, total: 7 });
  const alreadyProvisioned = outcome.kind === 'created' && outcome.alreadyProvisioned === true;
  if (outcome.kind === 'created' && !alreadyProvisioned) await t.deps.secrets.putIfAbsent(secretKeyOf(job), outcome.password);
  return createJobResult.parse({
    username,
    userId: `kc-${username}`,
    email: job.data.email,
    alreadyProvisioned,
    passwordIssued: !alreadyProvisioned,
    namespace: username,
  });
}

beforeAll(async () => {
  t = await buildTestApp();
  await redisReady(t);
  t.startWorker(fakeWorker);
});
afterAll(async () => t?.close());

const password = () => `Pw-${hex(12)}!`;
const newUser = (outcome: Outcome) => {
  const username = `trainee-${hex(4)}`;
  outcomes.set(username, outcome);
  return { username, email: `${username}@example.org` };
};
const post = (body: object, wait?: string) =>
  t.inject({ method: 'POST', url: '/provisioner', headers: { ...t.auth, ...(wait ? { prefer: wait } : {}) }, payload: body });

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

    expect(view).toMatchObject({ id: jobId, type: 'create', state: 'completed', attemptsMade: 1, progress: { step: 'grafana-user', done: 7, total: 7 } });
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

describe('a create repeated after its job finished', () => {
  const queue = () => t.deps.queues[QUEUES.provisioning];
  const secretKey = (job: Job) => `${t.config.QUEUE_PREFIX}:secret:${secretKeyOf(job)}`;

  it('keeps the job and the password the first caller has not read yet: 409 USER ALREADY EXIST', async () => {
    const secret = password();
    const { username, email } = newUser({ kind: 'created', password: secret });
    const first = await post({ email });
    const jobId = first.json().jobId as string;
    await eventually('the create to complete', async () => ((await queue().getJobState(jobId)) === 'completed' ? true : undefined), 10_000, 50);
    const job = (await queue().getJob(jobId))!;

    for (const wait of [undefined, 'wait=20']) {
      const again = await post({ email }, wait);
      expect(again.statusCode).toBe(409);
      expect(again.json()).toEqual({ message: 'USER ALREADY EXIST', jobId });
    }
    expect((await queue().getJob(jobId))!.timestamp).toBe(job.timestamp);
    expect(await t.deps.redis.exists(secretKey(job))).toBe(1);
    expect(processed.filter((entry) => entry.startsWith(`create-${username}@`))).toHaveLength(1);
    const view = (await t.inject({ method: 'GET', url: `/jobs/${jobId}`, headers: t.auth })).json();
    expect(view.result.password).toBe(secret);
  });

  it('replaces the finished job once its password was purged', async () => {
    const { username, email } = newUser({ kind: 'created', password: password() });
    const first = await post({ email }, 'wait=20');
    expect(first.statusCode).toBe(200);
    const oldJob = (await queue().getJob(`create-${username}`))!;
    await t.deps.secrets.remove(secretKeyOf(oldJob));

    const second = await post({ email }, 'wait=20');
    expect(second.statusCode).toBe(200);
    expect(second.json().jobId).toBe(first.json().jobId);
    const newJob = (await queue().getJob(`create-${username}`))!;
    expect(newJob.timestamp).toBeGreaterThan(oldJob.timestamp);
    expect(processed.filter((entry) => entry.startsWith(`create-${username}@`))).toHaveLength(2);
  });

  it('replaces it once a delete of the trainee finished after it: the trainee is created again', async () => {
    const { username, email } = newUser({ kind: 'created', password: password() });
    expect((await post({ email }, 'wait=20')).statusCode).toBe(200);
    const deleted = await t.inject({ method: 'DELETE', url: '/provisioner', headers: { ...t.auth, prefer: 'wait=20' }, payload: { email } });
    expect(deleted.statusCode).toBe(200);
    const again = await post({ email }, 'wait=20');
    expect(again.statusCode).toBe(200);
    expect(again.json().password).toBeTruthy();
    expect(processed.filter((entry) => entry.startsWith(`create-${username}@`))).toHaveLength(2);
  });
});

describe('two people, one username', () => {
  const queue = () => t.deps.queues[QUEUES.provisioning];

  it('a second identity never gets the first one\'s pending job: 409 USERNAME_CONFLICT at once, without a job id', async () => {
    let release!: () => void;
    const { username, email } = newUser({ kind: 'hold', release: new Promise<void>((resolve) => (release = resolve)) });
    try {
      const first = await post({ email, full_name: 'First Person' });
      expect(first.statusCode).toBe(202);
      for (const other of [{ email: `${username}@other.example` }, { email, full_name: 'Second Person' }, { full_name: username }]) {
        const started = Date.now();
        const res = await post(other, 'wait=20');
        expect(res.statusCode).toBe(409);
        expect(res.json()).toEqual({ message: expect.stringContaining('another trainee'), code: 'USERNAME_CONFLICT' });
        expect(JSON.stringify(res.json())).not.toContain(`create-${username}`);
        expect(Date.now() - started).toBeLessThan(5_000);
      }
      expect((await queue().getJob(`create-${username}`))?.data).toMatchObject({ email, fullName: 'First Person' });
    } finally {
      release();
    }
  });

  it('a second identity after the first one\'s create finished: 409, and the first one\'s job and password stay', async () => {
    const secret = password();
    const { username, email } = newUser({ kind: 'created', password: secret });
    const first = await post({ email }, 'wait=20');
    expect(first.statusCode).toBe(200);
    const job = (await queue().getJob(`create-${username}`))!;

    const second = await post({ email: `${username}@other.example` }, 'wait=20');
    expect(second.statusCode).toBe(409);
    expect(second.json()).toMatchObject({ code: 'USERNAME_CONFLICT' });
    expect(second.json()).not.toHaveProperty('password');
    expect((await queue().getJob(`create-${username}`))!.timestamp).toBe(job.timestamp);
    const view = (await t.inject({ method: 'GET', url: `/jobs/create-${username}`, headers: t.auth })).json();
    expect(view.result.password).toBe(secret);
    expect(view.result.email).toBe(email);
  });

  it('two identities racing for one username: exactly one gets the job, the other a 409', async () => {
    for (let round = 0; round < 5; round++) {
      let release!: () => void;
      const { username, email } = newUser({ kind: 'hold', release: new Promise<void>((resolve) => (release = resolve)) });
      try {
        const bodies = [{ email }, { email: `${username}@other.example` }];
        const answers = await Promise.all(bodies.map((body) => post(body)));
        expect(answers.map((a) => a.statusCode).sort()).toEqual([202, 409]);
        const winner = bodies[answers.findIndex((a) => a.statusCode === 202)]!;
        expect((await queue().getJob(`create-${username}`))?.data.email).toBe(winner.email);
      } finally {
        release();
      }
    }
  });
});

describe('logs', () => {
  it('never hold a token or a password', async () => {
    const secret = password();
    const { email } = newUser({ kind: 'created', password: secret });
    expect((await post({ email }, 'wait=20')).json().password).toBe(secret);
    const text = t.logs.join('\n');
    expect(text).toMatch(/"reqId"/);
    expect(text).not.toContain(secret);
    for (const token of t.tokens) expect(text).not.toContain(token);
  });
});

describe('shutdown', () => {
  it('answers a waiting request with 202 at once instead of holding the server open', async () => {
    const s = await buildTestApp();
    await redisReady(s);
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    s.startWorker(async () => held);
    try {
      const username = `trainee-${hex(4)}`;
      const pending = s.inject({ method: 'POST', url: '/provisioner', headers: { ...s.auth, prefer: 'wait=60' }, payload: { email: `${username}@example.org` } });
      await eventually('the job to be taken', async () => ((await s.deps.queues[QUEUES.provisioning].getJobState(`create-${username}`)) === 'active' ? true : undefined), 10_000, 50);
      const started = Date.now();
      await s.app.close();
      const res = await pending;
      expect(res.statusCode).toBe(202);
      expect(res.json().jobId).toBe(`create-${username}`);
      expect(Date.now() - started).toBeLessThan(3_000);
    } finally {
      release();
      await s.close();
    }
  });
});
