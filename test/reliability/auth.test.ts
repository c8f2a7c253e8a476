// Auth: every route the API serves — its own, Bull Board's pages and API, /metrics when
// present — refuses a missing or wrong token, and a client that keeps failing is
// rate-limited (429) on every route, even with a right token, while others are not.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dropPrefix, env, startTestApi, uniquePrefix, type TestApi } from './harness.js';
import { concrete, listRoutes } from './routes.js';

const PUBLIC = new Set(['/', '/healthz', '/readyz']);
const isPublic = (path: string) => PUBLIC.has(path) || path === '/docs' || path.startsWith('/docs/');

let api: TestApi;
const prefix = uniquePrefix('auth');
let address = 0;
/** A fresh client address per request, so these checks never trip the failure limiter. */
const nextAddress = () => `10.${(address >> 16) & 255}.${(address >> 8) & 255}.${address++ & 255}`;

beforeAll(async () => {
  api = await startTestApi(prefix);
});
afterAll(async () => {
  await api?.close();
  await dropPrefix(env('REDIS_URL'), prefix);
});

function badCredentials(token: string): Array<[string, string | undefined]> {
  const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
  return [
    ['none', undefined],
    ['empty', ''],
    ['wrong bearer', 'Bearer not-the-token-0123456789'],
    ['wrong bare', 'not-the-token-0123456789'],
    ['token with a suffix', `Bearer ${token}x`],
    ['token prefix', `Bearer ${token.slice(0, -1)}`],
    ['empty bearer', 'Bearer '],
    ['basic, wrong password', basic('admin', 'not-the-token-0123456789')],
    ['basic, token as user name', basic(token, '')],
    ['other scheme', `Token ${token}`.replace(token, 'x'.repeat(40))],
  ];
}

describe('auth on every route', () => {
  it('finds the routes, Bull Board included', () => {
    const paths = listRoutes(api.app).map((r) => r.path);
    expect(paths).toContain('/provisioner');
    expect(paths).toContain('/jobs/:id');
    expect(paths.some((p) => p.startsWith('/admin/queues'))).toBe(true);
  });

  it('refuses missing and wrong tokens on every protected route and method', async () => {
    const failures: string[] = [];
    let checked = 0;
    for (const { path, methods } of listRoutes(api.app)) {
      if (isPublic(path)) continue;
      for (const method of methods) {
        for (const [what, authorization] of badCredentials(api.token)) {
          const res = await api.app.inject({
            method: method as 'GET',
            url: concrete(path),
            remoteAddress: nextAddress(),
            headers: { 'content-type': 'application/json', ...(authorization === undefined ? {} : { authorization }) },
            ...(method === 'GET' || method === 'HEAD' ? {} : { payload: '{"email":"a@b.io"}' }),
          });
          checked += 1;
          if (res.statusCode !== 401) failures.push(`${method} ${path} (${what}) → ${res.statusCode}`);
          else if (method !== 'HEAD' && res.json<{ message: string }>().message !== 'Please submit a valid token') failures.push(`${method} ${path}: body ${res.body}`);
        }
      }
    }
    expect(failures).toEqual([]);
    expect(checked).toBeGreaterThan(100);
  });

  it('serves only liveness, readiness and the API docs without a token', async () => {
    const open: string[] = [];
    for (const { path, methods } of listRoutes(api.app)) {
      if (!methods.includes('GET')) continue;
      const res = await api.app.inject({ method: 'GET', url: concrete(path), remoteAddress: nextAddress() });
      if (res.statusCode !== 401) open.push(path);
    }
    expect(open.filter((path) => !isPublic(path))).toEqual([]);
    for (const path of PUBLIC) expect(open).toContain(path);
  });

  it('guards Bull Board and /metrics (if served) by token and by HTTP Basic from a browser', async () => {
    const board = await api.app.inject({ method: 'GET', url: '/admin/queues', remoteAddress: nextAddress() });
    expect(board.statusCode).toBe(401);
    expect(board.headers['www-authenticate']).toMatch(/^Basic /);
    const basic = `Basic ${Buffer.from(`ops:${api.token}`).toString('base64')}`;
    const ok = await api.app.inject({ method: 'GET', url: '/admin/queues', headers: { authorization: basic }, remoteAddress: nextAddress() });
    expect(ok.statusCode).toBe(200);
    const metricsServed = listRoutes(api.app).some((r) => r.path === '/metrics');
    if (metricsServed) {
      const metrics = await api.app.inject({ method: 'GET', url: '/metrics', remoteAddress: nextAddress() });
      expect(metrics.statusCode).toBe(401);
    }
  });
});

describe('rate limit on failed authentication', () => {
  it('answers 429 to a client after repeated failures, right token or not; other clients are unaffected', async () => {
    const attacker = '192.0.2.77';
    const statuses: number[] = [];
    for (let i = 0; i < 30; i += 1) {
      const res = await api.app.inject({ method: 'GET', url: '/jobs/x', headers: { authorization: `Bearer guess-${i}-0123456789abcdef` }, remoteAddress: attacker });
      statuses.push(res.statusCode);
    }
    expect(statuses.slice(0, 20).every((s) => s === 401)).toBe(true);
    expect(statuses.slice(20).every((s) => s === 429)).toBe(true);

    const limited = await api.app.inject({ method: 'GET', url: '/jobs/x', headers: { authorization: `Bearer ${api.token}` }, remoteAddress: attacker });
    expect(limited.statusCode).toBe(429);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);

    const liveness = await api.app.inject({ method: 'GET', url: '/healthz', remoteAddress: attacker });
    expect(liveness.statusCode).toBe(200);

    const other = await api.app.inject({ method: 'GET', url: '/jobs/x', headers: { authorization: `Bearer ${api.token}` }, remoteAddress: '192.0.2.78' });
    expect(other.statusCode).toBe(404);
  });

  it('does not count successful requests', async () => {
    const client = '192.0.2.99';
    for (let i = 0; i < 60; i += 1) {
      const res = await api.app.inject({ method: 'GET', url: '/jobs/x', headers: { authorization: api.token }, remoteAddress: client });
      expect(res.statusCode).toBe(404);
    }
  });
});

describe('rate limit behind a proxy (TRUST_PROXY)', () => {
  let proxied: TestApi;
  beforeAll(async () => {
    proxied = await startTestApi(uniquePrefix('rel-proxy'), { TRUST_PROXY: '10.0.0.1' });
  });
  afterAll(async () => {
    await proxied.close();
    await dropPrefix(env('REDIS_URL'), proxied.config.QUEUE_PREFIX);
  });

  it('counts failures per forwarded client, not per proxy address', async () => {
    const through = (client: string, authorization: string) =>
      proxied.app.inject({ method: 'GET', url: '/jobs/x', headers: { authorization, 'x-forwarded-for': client }, remoteAddress: '10.0.0.1' });
    for (let i = 0; i < 25; i += 1) await through('198.51.100.7', `Bearer guess-${i}-0123456789abcdef`);
    expect((await through('198.51.100.7', `Bearer ${proxied.token}`)).statusCode).toBe(429);
    // Another client behind the same proxy is not locked out with it.
    expect((await through('198.51.100.8', `Bearer ${proxied.token}`)).statusCode).toBe(404);
  });
});
