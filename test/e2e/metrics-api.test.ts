// The API's /metrics: a token unless METRICS_PUBLIC, HTTP requests by route pattern and status.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../helpers/api-app.js';
import { randomSuffix } from '../helpers/names.js';
import { sampleValue } from '../helpers/prometheus.js';

describe('api: /metrics', () => {
  let t: TestApp;
  let open: TestApp;

  beforeAll(async () => {
    [t, open] = await Promise.all([buildTestApp(), buildTestApp({ METRICS_PUBLIC: 'true' })]);
  });

  afterAll(async () => {
    await Promise.all([t?.close(), open?.close()]);
  });

  it('needs a token', async () => {
    const response = await t.inject({ method: 'GET', url: '/metrics' });
    expect(response.statusCode).toBe(401);
    expect(response.body).not.toContain('kup_');
    expect((await t.inject({ method: 'GET', url: '/metrics', headers: { authorization: 'Bearer wrong-token-0123456789' } })).statusCode).toBe(401);
  });

  it('counts requests by method, route pattern and status, and times them', async () => {
    const before = await t.inject({ method: 'GET', url: '/metrics', headers: t.auth });
    const healthBefore = sampleValue(before.body, 'kup_http_requests_total', { method: 'GET', route: '/healthz', status: '200' }) ?? 0;

    expect((await t.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
    expect((await t.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
    const jobId = `no-such-job-${randomSuffix()}`;
    expect((await t.inject({ method: 'GET', url: `/jobs/${jobId}` })).statusCode).toBe(401);
    const stray = `/nope-${randomSuffix()}`;
    expect((await t.inject({ method: 'GET', url: stray, headers: t.auth })).statusCode).toBe(404);

    const response = await t.inject({ method: 'GET', url: '/metrics', headers: t.auth });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toMatch(/^text\/plain/);
    const text = response.body;
    expect(sampleValue(text, 'kup_http_requests_total', { method: 'GET', route: '/healthz', status: '200' })).toBe(healthBefore + 2);
    expect(sampleValue(text, 'kup_http_requests_total', { method: 'GET', route: '/metrics', status: '401' })).toBeGreaterThanOrEqual(2);
    expect(sampleValue(text, 'kup_http_request_duration_seconds_count', { method: 'GET', route: '/healthz' })).toBeGreaterThanOrEqual(2);
    // Route patterns, never the URLs: ids and stray paths do not become series.
    expect(sampleValue(text, 'kup_http_requests_total', { method: 'GET', route: '/jobs/:id', status: '401' })).toBeGreaterThanOrEqual(1);
    expect(sampleValue(text, 'kup_http_requests_total', { method: 'GET', route: '(unmatched)', status: '404' })).toBeGreaterThanOrEqual(1);
    expect(text).not.toContain(jobId);
    expect(text).not.toContain(stray);
    // No token in the scrape.
    for (const token of t.tokens) expect(text).not.toContain(token);
    expect(text).toContain('kup_process_cpu_seconds_total');
  });

  it('is served without a token with METRICS_PUBLIC=true, and stays out of the OpenAPI document', async () => {
    const response = await open.inject({ method: 'GET', url: '/metrics' });
    expect(response.statusCode).toBe(200);
    expect(response.body).toContain('kup_http_requests_total');
    // Other routes still need one.
    expect((await open.inject({ method: 'GET', url: `/jobs/x-${randomSuffix()}` })).statusCode).toBe(401);
  });
});
