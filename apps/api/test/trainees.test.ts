// The trainee routes of the API alone (no worker), against the stack's Redis: bad input is
// a 400 before anything is asked of the worker; with no worker to answer, a read is a 503
// WORKER_UNAVAILABLE in QUERY_TIMEOUT_SECONDS and leaves no query job behind.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, redisReady, type TestApp } from '../../../test/helpers/api-app.js';

describe('API: trainee routes without a worker', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await buildTestApp({ QUERY_TIMEOUT_SECONDS: '1' });
    await redisReady(t);
  });
  afterAll(async () => {
    await t?.close();
  });

  it('answers 503 WORKER_UNAVAILABLE with a reason when no worker answers, and removes the query', async () => {
    for (const url of ['/trainees', '/trainees/jean-dupont', '/trainees/jean-dupont/kubeconfig', '/trainees/jean-dupont/welcome']) {
      const response = await t.inject({ method: 'GET', url, headers: t.auth });
      expect(response.statusCode, url).toBe(503);
      // Given up after the configured 1 s (not the default 10 s): the answer names the wait it made.
      expect(response.json()).toMatchObject({ code: 'WORKER_UNAVAILABLE', message: expect.stringContaining('no worker answered within 1 s (QUERY_TIMEOUT_SECONDS)') });
    }
    expect(await t.deps.queues.queries.getJobCounts('waiting', 'active', 'completed', 'failed')).toEqual({ waiting: 0, active: 0, completed: 0, failed: 0 });
  });

  it('refuses bad input with 400 before asking the worker', async () => {
    const before = await t.jobCount();
    const cases = [
      ['GET', '/trainees?limit=abc'],
      ['GET', '/trainees?state=gone'],
      ['GET', '/trainees?cursor=not-one-of-ours'],
      ['GET', '/trainees/UPPER'],
      ['GET', '/trainees/a..b/kubeconfig'],
      ['GET', '/trainees/jean/welcome?format=pdf'],
      ['PATCH', '/trainees/jean'],
      ['PATCH', '/trainees/-jean'],
    ] as const;
    for (const [method, url] of cases) {
      const response = await t.inject({ method, url, headers: t.auth, ...(method === 'PATCH' ? { payload: { expiresAt: url.endsWith('jean') ? 'later' : '2030-01-01T00:00:00Z' } } : {}) });
      expect(response.statusCode, `${method} ${url}`).toBe(400);
      expect(response.json().message, url).toBeTruthy();
    }
    expect(await t.jobCount()).toBe(before);
  });

  it('needs a token', async () => {
    for (const [method, url] of [['GET', '/trainees'], ['GET', '/trainees/jean'], ['PATCH', '/trainees/jean'], ['GET', '/trainees/jean/kubeconfig']] as const) {
      expect((await t.inject({ method, url })).statusCode, url).toBe(401);
    }
  });
});
