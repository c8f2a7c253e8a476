// API fuzzing with fast-check: random methods, paths, headers, encodings, sizes and
// bodies against the real API (its own queue prefix on the stack's Redis, no worker).
// Properties: no answer is a 5xx; a request that is not answered 202 adds no job; every
// job that exists passed the queue contract's schema; requests invalid by construction
// are all refused with a 4xx and enqueue nothing.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createJobData, deleteJobData, QUEUES } from '@kup/core';
import { dropPrefix, env, jobCount, sizeFromEnv, startTestApi, type TestApi } from './harness.js';
import { uniquePrefix } from './harness.js';

const RUNS = sizeFromEnv('FUZZ_RUNS', 1000);
const prefix = uniquePrefix('fuzz');
let api: TestApi;
let client = 0;
const nextAddress = () => `10.77.${(client >> 8) & 255}.${client++ & 255}`;

beforeAll(async () => {
  api = await startTestApi(prefix, { BODY_LIMIT_BYTES: '4096', MAX_WAIT_SECONDS: '0' });
});
afterAll(async () => {
  api?.logs.save('fuzz-api');
  await api?.close();
  await dropPrefix(env('REDIS_URL'), prefix);
});

type Method = 'GET' | 'POST' | 'PUT' | 'DELETE' | 'PATCH' | 'OPTIONS' | 'HEAD';
interface FuzzRequest {
  method: Method;
  url: string;
  headers: Record<string, string>;
  payload?: string | Buffer;
}

const methods = fc.constantFrom<Method>('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD');
const paths = fc.oneof(
  fc.constantFrom('/provisioner', '/provisioner/', '/PROVISIONER', '/jobs/', '/jobs/create-x', '/', '/readyz', '/admin/queues/api/queues', '/reset', '/cleanup', '/sync', '/schedules', '/metrics'),
  fc.string({ unit: 'grapheme', maxLength: 40 }).map((s) => `/provisioner?${encodeURIComponent(s)}=1`),
  fc.string({ unit: 'grapheme', maxLength: 300 }).map((s) => `/jobs/${encodeURIComponent(s)}`),
  fc.webPath().map((p) => p || '/'),
);
const contentTypes = fc.constantFrom(
  'application/json',
  'application/json; charset=utf-8',
  'application/json; charset=utf-16le',
  'Application/JSON',
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/xml',
  '',
  '*/*',
);
const encodings = fc.constantFrom(undefined, 'gzip', 'br', 'deflate', 'identity', 'x-garbage');
const auth = (token: string) =>
  fc.constantFrom<string | undefined>(token, `Bearer ${token}`, `bearer  ${token}`, `Basic ${Buffer.from(`u:${token}`).toString('base64')}`, undefined, 'Bearer nope-nope-nope-nope', `Bearer ${token}\u0000`);
const prefer = fc.oneof(fc.constant(undefined), fc.constantFrom('wait=0', 'wait=-1', 'wait=abc', 'wait=99999999999999999999', 'respond-async, wait=0', 'wait'), fc.string({ maxLength: 30 }));

/** Bodies: near-valid objects with hostile field values, random JSON, raw bytes, large sizes. */
const bodyObjects = fc.record(
  {
    email: fc.oneof(fc.emailAddress(), fc.string({ unit: 'grapheme', maxLength: 80 }), fc.constantFrom('a@b', '@x.io', 'ü@x.io', 'a'.repeat(300) + '@x.io', '..@x.io'), fc.jsonValue()),
    full_name: fc.oneof(fc.string({ unit: 'grapheme', maxLength: 250 }), fc.constantFrom('', ' ', '---', 'Émilie Durand', '\u0000', '😀😀'), fc.jsonValue()),
    expiresAt: fc.oneof(fc.date({ noInvalidDate: true }).map((d) => d.toISOString()), fc.string({ maxLength: 30 }), fc.integer()),
    extra: fc.jsonValue(),
    __proto__: fc.constant({ polluted: true }),
    constructor: fc.constant({ prototype: { polluted: true } }),
  },
  { requiredKeys: [] },
);
const payloads = fc.oneof(
  bodyObjects.map((o) => JSON.stringify(o)),
  fc.jsonValue().map((v) => JSON.stringify(v)),
  fc.string({ unit: 'binary', maxLength: 200 }),
  fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a)),
  fc.integer({ min: 3_000, max: 12_000 }).map((n) => JSON.stringify({ email: 'big@x.io', full_name: 'x'.repeat(n) })),
  fc.constant(Buffer.from(JSON.stringify({ email: 'utf16@x.io' }), 'utf16le')),
  fc.constant('{"email": "a@b.io",'),
  fc.constant(undefined),
);

/** Mostly requests that get past headers and parsing, so the validation and enqueue paths are hit. */
function nearValid(token: string): fc.Arbitrary<FuzzRequest> {
  const body = fc.record(
    { email: fc.oneof(fc.emailAddress(), fc.string({ maxLength: 30 })), full_name: fc.string({ unit: 'grapheme', minLength: 0, maxLength: 60 }), expiresAt: fc.constantFrom('2999-01-01T00:00:00Z', '2999-01-01', 'soon') },
    { requiredKeys: [] },
  );
  return fc.record({ method: fc.constantFrom<Method>('POST', 'DELETE'), body, prefer }).map(({ method, body: b, prefer: p }) => ({
    method,
    url: '/provisioner',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...(p === undefined ? {} : { prefer: p }) },
    payload: JSON.stringify(b),
  }));
}

function requests(token: string): fc.Arbitrary<FuzzRequest> {
  return fc.oneof(chaos(token), nearValid(token));
}

function chaos(token: string): fc.Arbitrary<FuzzRequest> {
  return fc.record({ method: methods, url: paths, ct: contentTypes, enc: encodings, authorization: auth(token), prefer, payload: payloads }).map((r) => {
    const headers: Record<string, string> = {};
    if (r.ct) headers['content-type'] = r.ct;
    if (r.enc) headers['content-encoding'] = r.enc;
    if (r.authorization !== undefined) headers.authorization = r.authorization;
    if (r.prefer !== undefined) headers.prefer = r.prefer;
    const withBody = r.method !== 'GET' && r.method !== 'HEAD';
    return { method: r.method, url: r.url, headers, ...(withBody && r.payload !== undefined ? { payload: r.payload } : {}) };
  });
}

/** Requests to the enqueueing routes that are invalid by construction, one reason each. */
function invalidRequests(token: string): fc.Arbitrary<FuzzRequest> {
  const base = { url: '/provisioner', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' } };
  const method = fc.constantFrom<Method>('POST', 'DELETE');
  const json = (body: unknown) => JSON.stringify(body);
  const email = fc.emailAddress();
  return fc.oneof(
    // neither email nor full_name
    fc.record({ method, expiresAt: fc.option(fc.constant('2999-01-01T00:00:00Z'), { nil: undefined }) }).map(({ method: m, expiresAt }) => ({ ...base, method: m, payload: json(expiresAt ? { expiresAt } : {}) })),
    // an unknown field next to a valid one
    fc.record({ method, email, key: fc.string({ minLength: 1, maxLength: 20 }).filter((k) => !['email', 'full_name', 'expiresAt', '__proto__'].includes(k)) }).map(({ method: m, email: e, key }) => ({ ...base, method: m, payload: json({ email: e, [key]: 1 }) })),
    // not an email
    fc.record({ method, bad: fc.string({ maxLength: 40 }).filter((s) => !s.includes('@')) }).map(({ method: m, bad }) => ({ ...base, method: m, payload: json({ email: bad }) })),
    // wrong types
    fc.record({ method, value: fc.oneof(fc.integer(), fc.boolean(), fc.constant(null), fc.array(fc.string())) }).map(({ method: m, value }) => ({ ...base, method: m, payload: json({ email: value }) })),
    // a name that gives no username
    fc.record({ method, name: fc.stringMatching(/^[-_ .!?]{1,20}$/) }).map(({ method: m, name }) => ({ ...base, method: m, payload: json({ full_name: name }) })),
    // an expiry in the past (create only)
    email.map((e) => ({ ...base, method: 'POST' as const, payload: json({ email: e, expiresAt: '2001-01-01T00:00:00Z' }) })),
    // a body over the limit
    email.map((e) => ({ ...base, method: 'POST' as const, payload: json({ email: e, full_name: 'x'.repeat(5_000) }) })),
    // not JSON, or not declared as JSON
    email.map((e) => ({ ...base, method: 'POST' as const, payload: `{"email":"${e}"` })),
    email.map((e) => ({ ...base, method: 'POST' as const, headers: { ...base.headers, 'content-type': 'text/plain' }, payload: json({ email: e }) })),
    // no or a wrong token
    email.map((e) => ({ ...base, method: 'POST' as const, headers: { 'content-type': 'application/json' }, payload: json({ email: e }) })),
    email.map((e) => ({ ...base, method: 'POST' as const, headers: { ...base.headers, authorization: 'Bearer wrong-wrong-wrong-wrong' }, payload: json({ email: e }) })),
  );
}

async function send(request: FuzzRequest) {
  return api.app.inject({ ...request, remoteAddress: nextAddress() });
}

describe('API fuzzing', () => {
  it(`answers random requests without a 5xx and enqueues only what it accepted (${RUNS} runs)`, async () => {
    const fiveHundreds: string[] = [];
    let accepted = 0;
    await fc.assert(
      fc.asyncProperty(requests(api.token), async (request) => {
        const before = await jobCount(api.deps);
        const res = await send(request);
        const after = await jobCount(api.deps);
        if (res.statusCode >= 500) fiveHundreds.push(`${request.method} ${request.url} → ${res.statusCode} ${res.body.slice(0, 200)}`);
        if (res.statusCode === 202) accepted += 1;
        expect(res.statusCode).toBeLessThan(500);
        if (res.statusCode !== 202) expect(after).toBe(before);
      }),
      { numRuns: RUNS, interruptAfterTimeLimit: 120_000 },
    );
    expect(fiveHundreds).toEqual([]);
    // Whatever did get in is valid job data.
    for (const job of await api.deps.queues[QUEUES.provisioning].getJobs(['waiting', 'delayed', 'prioritized', 'active'])) {
      const schema = job.name === 'create' ? createJobData : deleteJobData;
      expect(schema.safeParse(job.data).success, `job ${job.id} data ${JSON.stringify(job.data)}`).toBe(true);
    }
    // Sanity: the generator reaches the enqueueing path at all.
    expect(accepted).toBeGreaterThan(0);
  }, 300_000);

  it(`refuses requests that are invalid by construction with a 4xx and enqueues nothing (${RUNS} runs)`, async () => {
    const before = await jobCount(api.deps);
    await fc.assert(
      fc.asyncProperty(invalidRequests(api.token), async (request) => {
        const res = await send(request);
        expect(res.statusCode, `${request.method} ${String(request.payload).slice(0, 120)}`).toBeGreaterThanOrEqual(400);
        expect(res.statusCode).toBeLessThan(500);
        if (res.statusCode === 400) expect(res.json<{ message: string }>().message).toBeTruthy();
      }),
      { numRuns: RUNS, interruptAfterTimeLimit: 120_000 },
    );
    expect(await jobCount(api.deps)).toBe(before);
  }, 300_000);

  it('never echoes a token or a body in an answer or a log line', async () => {
    const secret = `fuzz-secret-${Date.now()}-0123456789`;
    const res = await send({ method: 'POST', url: '/provisioner', headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' }, payload: `{"email":"${secret}"` });
    expect(res.statusCode).toBe(401);
    expect(res.body).not.toContain(secret);
    expect(api.logs.text()).not.toContain(secret);
    expect(api.logs.text()).not.toContain(api.token);
  });
});
