import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { buildTestApp, type TestApp } from '../../../test/helpers/api-app.js';

/** A port nothing listens on: bound once by us, then closed. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('Redis unreachable', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp({ REDIS_URL: `redis://127.0.0.1:${await closedPort()}` });
  });
  afterAll(async () => t?.close());

  it('/readyz answers 503 quickly, liveness stays 200', async () => {
    // Quickly: without waiting on Redis at all (no PING sent to wait for), rather than by a
    // stopwatch that a busy machine could trip.
    const ping = vi.spyOn(t.deps.redis, 'ping');
    const ready = await t.inject({ method: 'GET', url: '/readyz' });
    expect(ready.statusCode).toBe(503);
    expect(ready.json()).toEqual({ status: 'redis unavailable' });
    expect(ping).not.toHaveBeenCalled();
    ping.mockRestore();
    expect((await t.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
    expect((await t.inject({ method: 'GET', url: '/' })).statusCode).toBe(200);
  });

  it('enqueueing answers 503 "Queue unavailable" at once instead of hanging', async () => {
    const res = await t.inject({ method: 'POST', url: '/provisioner', headers: t.auth, payload: { email: 'nobody@example.org' } });
    expect(res.statusCode).toBe(503);
    expect(res.json()).toEqual({ message: 'Queue unavailable', code: 'QUEUE_UNAVAILABLE' });
    const status = await t.inject({ method: 'GET', url: '/jobs/create-nobody', headers: t.auth });
    expect(status.statusCode).toBe(503);
    // At once: refused because the connection is down, before any command was sent, never
    // given up after the guard's deadline ("did not answer within").
    const causes = t.logs.map((line) => JSON.parse(line) as { msg?: string; err?: { message?: string } }).filter((line) => line.msg === 'Queue unavailable').map((line) => line.err?.message);
    expect(causes).toHaveLength(2);
    for (const cause of causes) expect(cause).toMatch(/^redis connection is (?!ready)\w+$/);
  });

  it("Bull Board's API answers 503 at once instead of hanging", async () => {
    // Only the board's own readiness check answers this 503; without it BullMQ would wait for
    // the connection until the test's timeout ends the test (no stopwatch needed).
    const res = await t.inject({ method: 'GET', url: '/admin/queues/api/queues', headers: t.auth });
    expect(res.statusCode).toBe(503);
    expect(res.json()).toEqual({ message: 'Queue unavailable', code: 'QUEUE_UNAVAILABLE' });
    const job = await t.inject({ method: 'GET', url: '/admin/queues/api/queues/provisioning/create-nobody', headers: t.auth });
    expect(job.statusCode).toBe(503);
  });

  it('a valid token is still served while the failure count cannot reach Redis; bad ones are still limited', async () => {
    const address = '192.0.2.200';
    const statuses: number[] = [];
    for (let i = 0; i < 25; i += 1) {
      const res = await t.inject({ method: 'GET', url: '/schedules', headers: { authorization: `Bearer bad-${i}-0123456789abcdef` }, remoteAddress: address });
      statuses.push(res.statusCode);
    }
    expect(statuses.slice(0, 20).every((s) => s === 401)).toBe(true);
    expect(statuses.slice(20).every((s) => s === 429)).toBe(true);
    const valid = await t.inject({ method: 'GET', url: '/schedules', headers: t.auth, remoteAddress: address });
    expect(valid.statusCode).toBe(503);
  });

  it('bad input is still refused with 400 before Redis is needed', async () => {
    const res = await t.inject({ method: 'POST', url: '/provisioner', headers: t.auth, payload: {} });
    expect(res.statusCode).toBe(400);
  });
});
