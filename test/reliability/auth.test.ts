// Auth: every route the API serves — its own, Bull Board's pages and API, /metrics when
// present — refuses a missing or wrong token, and a client that keeps failing is
// rate-limited (429, counted in Redis before answering, IPv6 by /64) while a valid token
// is always served and other clients are not affected.
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
  const bad = (i: number) => ({ authorization: `Bearer guess-${i}-0123456789abcdef` });
  const limit = () => api.config.AUTH_FAILURE_LIMIT;

  it('counts concurrent failures before answering: at most the limit get 401, the rest 429', async () => {
    const attacker = '192.0.2.77';
    const answers = await Promise.all(
      Array.from({ length: 60 }, (_, i) => api.app.inject({ method: 'GET', url: '/jobs/x', headers: bad(i), remoteAddress: attacker })),
    );
    const statuses = answers.map((res) => res.statusCode);
    expect(statuses.filter((s) => s === 401)).toHaveLength(limit());
    expect(statuses.filter((s) => s === 429)).toHaveLength(60 - limit());
    const refused = answers.find((res) => res.statusCode === 429);
    expect(refused?.json()).toEqual({ message: 'Too many failed authentications; retry later', code: 'AUTH_RATE_LIMITED' });
    expect(Number(refused?.headers['retry-after'])).toBeGreaterThan(0);

    // A valid token from the same address is served: a flood of bad tokens behind a
    // shared address never locks the others out.
    const valid = await api.app.inject({ method: 'GET', url: '/jobs/x', headers: { authorization: `Bearer ${api.token}` }, remoteAddress: attacker });
    expect(valid.statusCode).toBe(404);
    const schedules = await api.app.inject({ method: 'GET', url: '/schedules', headers: { authorization: `Bearer ${api.token}` }, remoteAddress: attacker });
    expect(schedules.statusCode).toBe(200);

    const liveness = await api.app.inject({ method: 'GET', url: '/healthz', remoteAddress: attacker });
    expect(liveness.statusCode).toBe(200);
    // Another client is not limited with it.
    const other = await api.app.inject({ method: 'GET', url: '/jobs/x', headers: bad(999), remoteAddress: '192.0.2.78' });
    expect(other.statusCode).toBe(401);
  });

  it('counts an IPv6 /64 as one client, whatever the interface id; IPv4-mapped addresses as IPv4', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < limit() + 5; i += 1) {
      const res = await api.app.inject({ method: 'GET', url: '/jobs/x', headers: bad(i), remoteAddress: `2001:db8:77:1:${(i + 1).toString(16)}::${i}` });
      statuses.push(res.statusCode);
    }
    expect(statuses.slice(0, limit()).every((s) => s === 401)).toBe(true);
    expect(statuses.slice(limit()).every((s) => s === 429)).toBe(true);
    // The next /64 is someone else.
    const neighbour = await api.app.inject({ method: 'GET', url: '/jobs/x', headers: bad(1), remoteAddress: '2001:db8:77:2::1' });
    expect(neighbour.statusCode).toBe(401);

    for (let i = 0; i < limit(); i += 1) {
      const address = i % 2 === 0 ? '203.0.113.9' : '::ffff:203.0.113.9';
      expect((await api.app.inject({ method: 'GET', url: '/jobs/x', headers: bad(i), remoteAddress: address })).statusCode).toBe(401);
    }
    const mapped = await api.app.inject({ method: 'GET', url: '/jobs/x', headers: bad(0), remoteAddress: '::ffff:203.0.113.9' });
    expect(mapped.statusCode).toBe(429);
  });

  it('does not count requests without any credential (a browser before its Basic challenge)', async () => {
    const browser = '192.0.2.120';
    for (let i = 0; i < limit() + 10; i += 1) {
      const res = await api.app.inject({ method: 'GET', url: '/admin/queues', remoteAddress: browser });
      expect(res.statusCode).toBe(401);
      expect(res.headers['www-authenticate']).toMatch(/^Basic /);
    }
    expect((await api.app.inject({ method: 'GET', url: '/jobs/x', headers: bad(0), remoteAddress: browser })).statusCode).toBe(401);
  });

  it('does not count successful requests', async () => {
    const client = '192.0.2.99';
    for (let i = 0; i < 60; i += 1) {
      const res = await api.app.inject({ method: 'GET', url: '/jobs/x', headers: { authorization: api.token }, remoteAddress: client });
      expect(res.statusCode).toBe(404);
    }
    expect((await api.app.inject({ method: 'GET', url: '/jobs/x', headers: bad(0), remoteAddress: client })).statusCode).toBe(401);
  });

  it('is shared by API replicas (the count lives in Redis)', async () => {
    const replica = await startTestApi(prefix);
    try {
      const attacker = '192.0.2.150';
      const half = Math.ceil(limit() / 2);
      for (let i = 0; i < half; i += 1) {
        expect((await api.app.inject({ method: 'GET', url: '/jobs/x', headers: bad(i), remoteAddress: attacker })).statusCode).toBe(401);
      }
      for (let i = half; i < limit(); i += 1) {
        expect((await replica.app.inject({ method: 'GET', url: '/jobs/x', headers: bad(i), remoteAddress: attacker })).statusCode).toBe(401);
      }
      expect((await replica.app.inject({ method: 'GET', url: '/jobs/x', headers: bad(0), remoteAddress: attacker })).statusCode).toBe(429);
      expect((await api.app.inject({ method: 'GET', url: '/jobs/x', headers: bad(0), remoteAddress: attacker })).statusCode).toBe(429);
    } finally {
      await replica.close();
    }
  });
});

describe('rate limit with a guessable token (a short VERIFICATION_TOKEN, the old name)', () => {
  const short = 'kup-old-42';
  let legacy: TestApi;
  beforeAll(async () => {
    // The old service's variable, and no API_TOKENS: the only way a short token is accepted.
    legacy = await startTestApi(uniquePrefix('rel-legacy'), { API_TOKENS: undefined as unknown as string, VERIFICATION_TOKEN: short });
  });
  afterAll(async () => {
    await legacy.close();
    await dropPrefix(env('REDIS_URL'), legacy.config.QUEUE_PREFIX);
  });

  it('locks a guessing client out, right guess included, until its window ends; others are served', async () => {
    const get = (authorization: string, remoteAddress: string) => legacy.app.inject({ method: 'GET', url: '/jobs/x', headers: { authorization }, remoteAddress });
    expect(legacy.config.API_TOKENS).toEqual([short]);
    const attacker = '192.0.2.201';
    const limit = legacy.config.AUTH_FAILURE_LIMIT;
    for (let i = 0; i < limit; i += 1) expect((await get(`kup-old-${i}x`, attacker)).statusCode).toBe(401);
    expect((await get('kup-old-xx', attacker)).statusCode).toBe(429);
    // The guess that is right: still 429, so guessing gains nothing from going on.
    const right = await get(short, attacker);
    expect(right.statusCode).toBe(429);
    expect(Number(right.headers['retry-after'])).toBeGreaterThan(0);
    expect((await get(short, '192.0.2.202')).statusCode).toBe(404);
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
    expect((await through('198.51.100.7', 'Bearer guess-again-0123456789abcdef')).statusCode).toBe(429);
    // Another client behind the same proxy is not limited with it, and a valid token never is.
    expect((await through('198.51.100.8', 'Bearer guess-again-0123456789abcdef')).statusCode).toBe(401);
    expect((await through('198.51.100.7', `Bearer ${proxied.token}`)).statusCode).toBe(404);
  });
});
