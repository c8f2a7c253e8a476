// A create repeated, two people for one username, logs and shutdown, against a fake worker (wait-fixture.ts).
import { type Job } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QUEUES, secretKeyOf } from '@kup/core';
import { eventually } from '../../../test/helpers/poll.js';
import { buildTestApp, hex, redisReady } from '../../../test/helpers/api-app.js';
import { newUser, password, post, processed, startWaitApp, t } from './wait-fixture.js';

beforeAll(startWaitApp);
afterAll(async () => t?.close());

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
      // At once, without a stopwatch: the longest wait is asked, so waiting it out three times
      // would outlast the test's timeout; no wait was applied; the held job never ended meanwhile.
      for (const other of [{ email: `${username}@other.example` }, { email, full_name: 'Second Person' }, { full_name: username }]) {
        const res = await post(other, `wait=${t.config.MAX_WAIT_SECONDS}`);
        expect(res.statusCode).toBe(409);
        expect(res.json()).toEqual({ message: expect.stringContaining('another trainee'), code: 'USERNAME_CONFLICT' });
        expect(JSON.stringify(res.json())).not.toContain(`create-${username}`);
        expect(res.headers['preference-applied']).toBeUndefined();
      }
      expect(await queue().getJobState(`create-${username}`)).not.toMatch(/^(completed|failed)$/);
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
    // The wait asked (300 s) outlasts the test's timeout: a server that held the request until
    // then fails the test by that timeout, with no stopwatch that a busy machine could trip.
    const s = await buildTestApp({ MAX_WAIT_SECONDS: '300' });
    await redisReady(s);
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    s.startWorker(async () => held);
    try {
      const username = `trainee-${hex(4)}`;
      const pending = s.inject({ method: 'POST', url: '/provisioner', headers: { ...s.auth, prefer: 'wait=300' }, payload: { email: `${username}@example.org` } });
      await eventually('the job to be taken', async () => ((await s.deps.queues[QUEUES.provisioning].getJobState(`create-${username}`)) === 'active' ? true : undefined), 10_000, 50);
      await s.app.close();
      const res = await pending;
      expect(res.statusCode).toBe(202);
      expect(res.json().jobId).toBe(`create-${username}`);
      // Answered by the shutdown, not by the job's end: the job is still held.
      expect(await s.deps.queues[QUEUES.provisioning].getJobState(`create-${username}`)).toBe('active');
    } finally {
      release();
      await s.close();
    }
  });
});
