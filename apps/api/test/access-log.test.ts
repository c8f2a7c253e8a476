// One access line per request (not Fastify's two), with what an operator greps for;
// successful probes and scrapes only at debug level.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, hex, redisReady, type TestApp } from '../../../test/helpers/api-app.js';

interface Line {
  level: number;
  msg: string;
  reqId?: string;
  method?: string;
  url?: string;
  status?: number;
  ms?: number;
}

describe('api: access log', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await buildTestApp();
    await redisReady(t);
  });

  afterAll(async () => {
    await t?.close();
  });

  const linesOf = (reqId: string): Line[] => t.logs.map((raw) => JSON.parse(raw) as Line).filter((line) => line.reqId === reqId);

  it('writes one line per request with method, url, status and duration', async () => {
    const reqId = `log-${hex(6)}`;
    const response = await t.inject({
      method: 'POST',
      url: '/provisioner',
      headers: { ...t.auth, 'x-request-id': reqId },
      payload: { email: `log-${hex(4)}@example.com` },
    });
    expect(response.statusCode).toBe(202);
    const lines = linesOf(reqId);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 30, msg: 'request', method: 'POST', url: '/provisioner', status: 202 });
    expect(lines[0]?.ms).toEqual(expect.any(Number));
    expect(t.logs.join('\n')).not.toContain('incoming request');
  });

  it('logs successful probes at debug level and refusals at info', async () => {
    const probe = `probe-${hex(6)}`;
    expect((await t.inject({ method: 'GET', url: '/healthz', headers: { 'x-request-id': probe } })).statusCode).toBe(200);
    expect(linesOf(probe)).toEqual([expect.objectContaining({ level: 20, status: 200, url: '/healthz' })]);

    const refused = `refused-${hex(6)}`;
    expect((await t.inject({ method: 'GET', url: '/metrics', headers: { 'x-request-id': refused } })).statusCode).toBe(401);
    expect(linesOf(refused)).toEqual([expect.objectContaining({ level: 30, status: 401, url: '/metrics' })]);
  });
});
