import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createJobId, deleteJobId, QUEUES } from '@kup/core';
import { buildTestApp, hex, redisReady, type TestApp } from '../../../test/helpers/api-app.js';

// No worker consumes these queues: jobs stay pending, which is what these tests look at.
let t: TestApp;
beforeAll(async () => {
  t = await buildTestApp({ BODY_LIMIT_BYTES: '1024' });
  await redisReady(t);
});
afterAll(async () => t?.close());

/** light-my-request sends an object as JSON, with its content type. */
const json = (body: Record<string, unknown>) => ({ payload: body });

describe('POST /provisioner', () => {
  it('answers 202 with the job, which is queued with the contract data and options', async () => {
    const suffix = hex(3);
    const email = `Jean.Dupont.${suffix}@example.org`;
    const res = await t.inject({ method: 'POST', url: '/provisioner', headers: t.auth, ...json({ email, full_name: 'Jean Dupont' }) });

    expect(res.statusCode).toBe(202);
    const username = `jean-dupont-${suffix}`;
    const jobId = createJobId(username);
    expect(res.json()).toEqual({ jobId, statusUrl: `/jobs/${jobId}`, username });
    expect(res.headers.location).toBe(`/jobs/${jobId}`);

    const job = await t.deps.queues[QUEUES.provisioning].getJob(jobId);
    expect(job?.name).toBe('create');
    // The request id rides along (worker log lines of the job carry it); no trace context with tracing off.
    expect(job?.data).toEqual({ username, email, fullName: 'Jean Dupont', requestId: res.headers['x-request-id'] });
    expect(job?.opts.attempts).toBe(t.config.JOB_ATTEMPTS);
    expect(job?.opts.backoff).toEqual({ type: 'exponential', delay: t.config.JOB_BACKOFF_MS });

    const status = await t.inject({ method: 'GET', url: `/jobs/${jobId}`, headers: t.auth });
    expect(status.statusCode).toBe(200);
    const view = status.json();
    expect(view).toMatchObject({ id: jobId, type: 'create', queue: 'provisioning', state: 'waiting', attemptsMade: 0, finishedAt: null });
    expect(view.progress).toEqual({ step: 'waiting', done: 0, total: 0 });
    expect(new Date(view.createdAt).toISOString()).toBe(view.createdAt);
    expect(view.result).toBeUndefined();
    expect(view.error).toBeUndefined();
  });

  it('answers a repeated request with the same pending job', async () => {
    const body = { full_name: `Émilie Durand ${hex(3)}`, expiresAt: new Date(Date.now() + 86_400_000).toISOString() };
    const first = await t.inject({ method: 'POST', url: '/provisioner', headers: t.auth, ...json(body) });
    const before = await t.jobCount();
    const second = await t.inject({ method: 'POST', url: '/provisioner', headers: t.auth, ...json(body) });

    expect(first.statusCode).toBe(202);
    expect(first.json().username).toMatch(/^emilie-durand-[0-9a-f]{6}$/);
    expect(second.statusCode).toBe(202);
    expect(second.json().jobId).toBe(first.json().jobId);
    expect(await t.jobCount()).toBe(before);
    const job = await t.deps.queues[QUEUES.provisioning].getJob(first.json().jobId);
    expect(job?.data.expiresAt).toBe(body.expiresAt);
  });

  it('answers concurrent identical requests with one job', async () => {
    const body = { email: `race-${hex(3)}@example.org` };
    const before = await t.jobCount();
    const answers = await Promise.all(
      Array.from({ length: 5 }, () => t.inject({ method: 'POST', url: '/provisioner', headers: t.auth, ...json(body) })),
    );
    expect(answers.map((a) => a.statusCode)).toEqual([202, 202, 202, 202, 202]);
    expect(new Set(answers.map((a) => a.json().jobId)).size).toBe(1);
    expect(await t.jobCount()).toBe(before + 1);
  });

  describe('refuses bad input with a 4xx and enqueues nothing', () => {
    const cases: [string, Record<string, unknown>, RegExp][] = [
      ['a bad email', { email: 'not-an-email' }, /email/],
      ['an email with a space', { email: 'jean dupont@example.org' }, /not a valid email address: it holds a space/],
      ['an email with a control character', { email: 'jean\u0007@example.org' }, /control character/],
      ['an email over 254 bytes', { email: `${'é'.repeat(64)}@${'d'.repeat(63)}.${'d'.repeat(63)}.org` }, /over 254 bytes/],
      ['an unknown field', { email: 'a@example.org', role: 'admin' }, /role/],
      ['an empty full_name', { full_name: '' }, /full_name/],
      ['a full_name over 200 characters', { full_name: 'x'.repeat(201) }, /full_name/],
      ['an expiresAt in the past', { email: 'a@example.org', expiresAt: '2020-01-01T00:00:00Z' }, /future/],
      ['an expiresAt that is no date', { email: 'a@example.org', expiresAt: 'tomorrow' }, /expiresAt/],
      ['a wrong type', { email: 42 }, /email/],
      // What Keycloak's user profile refuses is a 400 with its reason, not a job that fails later.
      ['a full_name with a character Keycloak refuses', { email: 'a.b@example.org', full_name: 'Jean <Dupont>' }, /full_name.*Keycloak refuses \\"<\\"/],
      ['a full_name with a slash', { full_name: 'Jean/Dupont' }, /person-name-prohibited-characters/],
      ['a full_name with a line break', { full_name: 'Jean\nDupont' }, /control characters/],
      ['an email whose local part is over 64 characters', { email: `${'a'.repeat(65)}@example.org` }, /over 64 characters/],
    ];
    it.each(cases)('%s', async (_name, body, reason) => {
      const before = await t.jobCount();
      const res = await t.inject({ method: 'POST', url: '/provisioner', headers: t.auth, ...json(body) });
      expect(res.statusCode).toBe(400);
      const answer = res.json();
      expect(answer.message).toBe('Invalid request');
      expect(answer.details.length).toBeGreaterThan(0);
      expect(JSON.stringify(answer.details)).toMatch(reason);
      expect(await t.jobCount()).toBe(before);
    });

    it('neither email nor full name: the old service\'s sentence is the message, and nothing is enqueued', async () => {
      const before = await t.jobCount();
      for (const method of ['POST', 'DELETE'] as const) {
        const res = await t.inject({ method, url: '/provisioner', headers: t.auth, ...json({}) });
        expect(res.statusCode).toBe(400);
        expect(res.json()).toMatchObject({ message: 'Email address and full name are missing', code: 'INVALID_REQUEST' });
      }
      // With another mistake as well, the answer stays the general one.
      const both = await t.inject({ method: 'POST', url: '/provisioner', headers: t.auth, ...json({ role: 'admin' }) });
      expect(both.json().message).toBe('Invalid request');
      expect(await t.jobCount()).toBe(before);
    });

    it.each(['kube-system@example.org', 'default@example.org', 'argocd@example.org', 'cert.manager@example.org', 'monitoring@example.org', 'istio-system@example.org'])(
      'a username that is a reserved namespace (%s): 409 NAMESPACE_RESERVED',
      async (email) => {
        const before = await t.jobCount();
        const res = await t.inject({ method: 'POST', url: '/provisioner', headers: t.auth, ...json({ email }) });
        expect(res.statusCode).toBe(409);
        expect(res.json()).toEqual({ code: 'NAMESPACE_RESERVED', message: expect.stringMatching(/is reserved for the platform/) });
        expect(await t.jobCount()).toBe(before);
      },
    );

    it('a name that gives an empty username', async () => {
      const before = await t.jobCount();
      const res = await t.inject({ method: 'POST', url: '/provisioner', headers: t.auth, ...json({ full_name: '... --' }) });
      expect(res.statusCode).toBe(400);
      expect(res.json()).toMatchObject({ code: 'INVALID_USERNAME', message: expect.stringMatching(/empty username/) });
      expect(await t.jobCount()).toBe(before);
    });

    it('an email that gives a username too short for Keycloak', async () => {
      const before = await t.jobCount();
      const res = await t.inject({ method: 'POST', url: '/provisioner', headers: t.auth, ...json({ email: 'jo@example.com' }) });
      expect(res.statusCode).toBe(400);
      expect(res.json()).toMatchObject({ code: 'INVALID_INPUT', message: expect.stringMatching(/"jo".*at least 3 characters/) });
      expect(await t.jobCount()).toBe(before);
    });

    it('bad JSON, without quoting it back', async () => {
      const before = await t.jobCount();
      const res = await t.inject({ method: 'POST', url: '/provisioner', headers: { ...t.auth, 'content-type': 'application/json' }, payload: '{"email": "secret-ish@x.io",' });
      expect(res.statusCode).toBe(400);
      expect(res.json()).toEqual({ message: 'Body is not valid JSON', code: 'INVALID_JSON' });
      expect(await t.jobCount()).toBe(before);
    });

    it('no body at all', async () => {
      const res = await t.inject({ method: 'POST', url: '/provisioner', headers: { ...t.auth, 'content-type': 'application/json' } });
      expect(res.statusCode).toBe(400);
    });
  });

  it('refuses a body over BODY_LIMIT_BYTES with 413', async () => {
    const before = await t.jobCount();
    const res = await t.inject({ method: 'POST', url: '/provisioner', headers: t.auth, ...json({ email: 'a@example.org', full_name: 'x'.repeat(2_000) }) });
    expect(res.statusCode).toBe(413);
    expect(res.json().message).toBeTruthy();
    expect(await t.jobCount()).toBe(before);
  });

  it('refuses a body that is not JSON with 415', async () => {
    const res = await t.inject({ method: 'POST', url: '/provisioner', headers: { ...t.auth, 'content-type': 'text/plain' }, payload: 'email=a@example.org' });
    expect(res.statusCode).toBe(415);
    expect(res.json()).toEqual({ message: "Unsupported Content-Type text/plain: send the body as application/json (with curl: -H 'Content-Type: application/json')", code: 'UNSUPPORTED_MEDIA_TYPE' });
    // curl -d without a type sends a form: told the same.
    const form = await t.inject({ method: 'POST', url: '/provisioner', headers: { ...t.auth, 'content-type': 'application/x-www-form-urlencoded' }, payload: 'email=a@example.org' });
    expect(form.statusCode).toBe(415);
    expect(form.json().message).toMatch(/^Unsupported Content-Type application\/x-www-form-urlencoded: send the body as application\/json/);
  });
});

describe('DELETE /provisioner', () => {
  it('answers 202 with a job that tries the email-derived, then the name-derived username', async () => {
    const suffix = hex(3);
    const res = await t.inject({
      method: 'DELETE',
      url: '/provisioner',
      headers: t.auth,
      ...json({ email: `jdupont${suffix}@example.org`, full_name: `Jean Dupont ${suffix}` }),
    });
    expect(res.statusCode).toBe(202);
    const jobId = deleteJobId(`jdupont${suffix}`);
    expect(res.json()).toEqual({ jobId, statusUrl: `/jobs/${jobId}`, username: `jdupont${suffix}` });
    const job = await t.deps.queues[QUEUES.provisioning].getJob(jobId);
    expect(job?.name).toBe('delete');
    // The email goes along: the worker deletes no trainee of another email under those names.
    expect(job?.data).toEqual({ usernames: [`jdupont${suffix}`, `jean-dupont-${suffix}`], email: `jdupont${suffix}@example.org`, requestId: res.headers['x-request-id'] });
  });

  it('refuses an empty body with 400', async () => {
    const before = await t.jobCount();
    const res = await t.inject({ method: 'DELETE', url: '/provisioner', headers: t.auth, ...json({}) });
    expect(res.statusCode).toBe(400);
    expect(await t.jobCount()).toBe(before);
  });
});

describe('GET /jobs/:id', () => {
  it('answers 404 for an unknown id', async () => {
    const res = await t.inject({ method: 'GET', url: `/jobs/create-nobody-${hex(4)}`, headers: t.auth });
    expect(res.statusCode).toBe(404);
    expect(res.json().message).toBe('Job not found');
  });
});

describe('auth', () => {
  const protectedRoutes = [
    { method: 'POST', url: '/provisioner', ...json({ email: 'auth-check@example.org' }) },
    { method: 'DELETE', url: '/provisioner', ...json({ email: 'auth-check@example.org' }) },
    { method: 'GET', url: '/jobs/create-auth-check' },
    { method: 'GET', url: '/admin/queues' },
    { method: 'GET', url: '/admin/queues/api/queues' },
  ] as const;

  // Its own app: failed authentications may be rate-limited per client, and must not
  // spill over into the other tests.
  let u: TestApp;
  beforeAll(async () => {
    u = await buildTestApp();
    await redisReady(u);
  });
  afterAll(async () => u?.close());

  it.each(protectedRoutes)('$method $url: 401 without a token or with a wrong one', async (route) => {
    const before = await u.jobCount();
    for (const authorization of [undefined, 'wrong-token-0123456789', `Bearer ${u.tokens[0]}x`, `Basic ${Buffer.from('u:nope').toString('base64')}`]) {
      const res = await u.inject({ ...route, headers: authorization ? { authorization } : {} });
      expect(res.statusCode).toBe(401);
      expect(res.json()).toEqual({ message: 'Please submit a valid token' });
      if (route.url.startsWith('/admin/')) expect(res.headers['www-authenticate']).toBe('Basic realm="k8s-user-provisioner", charset="UTF-8"');
      else expect(res.headers['www-authenticate']).toBeUndefined();
    }
    expect(await u.jobCount()).toBe(before);
  });

  it('accepts a bare token, Bearer, Basic with the token as password, and every configured token', async () => {
    const headers = [t.tokens[0], `Bearer ${t.tokens[1]}`, `bearer ${t.tokens[0]}`, `Basic ${Buffer.from(`admin:${t.tokens[1]}`).toString('base64')}`];
    for (const authorization of headers) {
      const res = await t.inject({ method: 'GET', url: `/jobs/none-${hex(2)}`, headers: { authorization } });
      expect(res.statusCode).toBe(404);
    }
  });

  it('serves liveness, readiness and the docs without a token', async () => {
    const root = await t.inject({ method: 'GET', url: '/' });
    expect(root.statusCode).toBe(200);
    expect(root.body).toMatch(/running/);
    expect((await t.inject({ method: 'GET', url: '/healthz' })).json()).toEqual({ status: 'ok' });
    const ready = await t.inject({ method: 'GET', url: '/readyz' });
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toEqual({ status: 'ready' });
  });
});

describe('docs and Bull Board', () => {
  it('/docs/json lists the routes with their schemas', async () => {
    const res = await t.inject({ method: 'GET', url: '/docs/json' });
    expect(res.statusCode).toBe(200);
    const spec = res.json();
    expect(spec.openapi).toMatch(/^3\./);
    expect(Object.keys(spec.paths['/provisioner'])).toEqual(expect.arrayContaining(['post', 'delete']));
    expect(spec.paths['/provisioner'].post.responses).toHaveProperty('202');
    expect(spec.paths['/provisioner'].post.requestBody).toBeDefined();
    expect(spec.paths['/jobs/{id}'].get.responses).toHaveProperty('404');
    for (const path of ['/', '/healthz', '/readyz']) expect(spec.paths).toHaveProperty([path]);
    expect(Object.keys(spec.paths).some((path) => path.startsWith('/admin'))).toBe(false);
    expect((await t.inject({ method: 'GET', url: '/docs' })).statusCode).toBeLessThan(400);
  });

  it('Bull Board shows every queue to a browser with Basic auth', async () => {
    const basic = { authorization: `Basic ${Buffer.from(`ops:${t.tokens[0]}`).toString('base64')}` };
    const page = await t.inject({ method: 'GET', url: '/admin/queues', headers: basic });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toMatch(/html/);
    const api = await t.inject({ method: 'GET', url: '/admin/queues/api/queues', headers: basic });
    expect(api.statusCode).toBe(200);
    const names = (api.json().queues as { name: string }[]).map((queue) => queue.name).sort();
    expect(names).toEqual(expect.arrayContaining(Object.values(QUEUES)));
  });
});

describe('logs', () => {
  it('carry request ids but never a token', () => {
    const text = t.logs.join('\n');
    expect(text).toMatch(/"reqId"/);
    for (const token of t.tokens) expect(text).not.toContain(token);
  });
});
