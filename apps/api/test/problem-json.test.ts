// Errors as RFC 9457 problem documents when the caller's Accept asks for them; the old
// {message, code} body for everyone else. Every sender: validation, auth, 404, routes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROBLEM_TYPE_PREFIX } from '../src/plugins/problem-json.js';
import { buildTestApp, hex, type TestApp } from '../../../test/helpers/api-app.js';

const PROBLEM = 'application/problem+json';

describe('api: application/problem+json errors', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await buildTestApp();
  });

  afterAll(async () => {
    await t?.close();
  });

  const asProblem = { accept: `${PROBLEM}, application/json;q=0.9` };

  it('answers a validation error as a problem document that keeps message, code and details', async () => {
    const before = await t.jobCount();
    const response = await t.inject({
      method: 'POST', url: '/provisioner?x=1', headers: { ...t.auth, ...asProblem, 'content-type': 'application/json', 'x-request-id': 'problem-req-1' },
      payload: { email: 'not-an-email' },
    });
    expect(response.statusCode).toBe(400);
    expect(response.headers['content-type']).toBe(`${PROBLEM}; charset=utf-8`);
    expect(response.headers.vary).toMatch(/Accept/);
    const body = response.json();
    expect(body).toMatchObject({
      type: `${PROBLEM_TYPE_PREFIX}INVALID_REQUEST`, title: 'Bad Request', status: 400, detail: 'Invalid request', instance: '/provisioner',
      message: 'Invalid request', code: 'INVALID_REQUEST', requestId: 'problem-req-1',
    });
    expect(body.details[0].path).toBe('email');
    expect(Number(response.headers['content-length'])).toBe(Buffer.byteLength(response.body));
    // Still changes nothing.
    expect(await t.jobCount()).toBe(before);
  });

  it('covers the auth hook, the 404 handler and a route of its own', async () => {
    const unauthorized = await t.inject({ method: 'GET', url: '/jobs/x', headers: asProblem });
    expect(unauthorized.statusCode).toBe(401);
    expect(unauthorized.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(unauthorized.json()).toMatchObject({ status: 401, title: 'Unauthorized', detail: 'Please submit a valid token', message: 'Please submit a valid token' });

    const stray = await t.inject({ method: 'GET', url: `/nope-${hex(4)}`, headers: { ...t.auth, ...asProblem } });
    expect(stray.statusCode).toBe(404);
    expect(stray.json()).toMatchObject({ type: `${PROBLEM_TYPE_PREFIX}NOT_FOUND`, status: 404, code: 'NOT_FOUND' });

    const job = await t.inject({ method: 'GET', url: `/jobs/none-${hex(4)}`, headers: { ...t.auth, accept: PROBLEM } });
    expect(job.statusCode).toBe(404);
    expect(job.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(job.json()).toMatchObject({ type: `${PROBLEM_TYPE_PREFIX}JOB_NOT_FOUND`, status: 404, detail: 'Job not found', code: 'JOB_NOT_FOUND' });

    const unsupported = await t.inject({ method: 'POST', url: '/provisioner', headers: { ...t.auth, accept: PROBLEM, 'content-type': 'text/plain' }, payload: 'x' });
    expect(unsupported.statusCode).toBe(415);
    expect(unsupported.json()).toMatchObject({ status: 415, title: 'Unsupported Media Type' });
  });

  it('keeps the old body for callers that do not ask: JSON, wildcards, no Accept', async () => {
    for (const accept of ['application/json', '*/*', undefined, `application/json, ${PROBLEM};q=0.5`]) {
      const response = await t.inject({ method: 'GET', url: `/jobs/none-${hex(4)}`, headers: { ...t.auth, ...(accept ? { accept } : {}) } });
      expect(response.statusCode, accept).toBe(404);
      expect(response.headers['content-type'], accept).toMatch(/^application\/json/);
      expect(response.json(), accept).toEqual({ message: 'Job not found', code: 'JOB_NOT_FOUND' });
    }
  });

  it('leaves successful answers alone', async () => {
    const response = await t.inject({ method: 'GET', url: '/healthz', headers: { accept: PROBLEM } });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toMatch(/^application\/json/);
    expect(response.json()).toEqual({ status: 'ok' });
  });
});
