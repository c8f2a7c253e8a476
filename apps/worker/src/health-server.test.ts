import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '@kup/core';
import { HealthServer } from './health-server.js';

describe('HealthServer', () => {
  let server: HealthServer | undefined;
  let redisUp = true;
  let running = true;

  afterEach(async () => {
    await server?.close();
    redisUp = true;
    running = true;
  });

  type Get = (path: string, method?: string, headers?: Record<string, string>) => Promise<{ status: number; body: string }>;
  async function start(metricsTokens?: string[]): Promise<Get> {
    server = new HealthServer({
      metricsTokens,
      port: 0,
      host: '127.0.0.1',
      logger: createLogger({ name: 'health-test', level: 'silent' }),
      redisReady: async () => redisUp,
      workersRunning: () => running,
    });
    const port = await server.start();
    return async (path, method = 'GET', headers = {}) => {
      const response = await fetch(`http://127.0.0.1:${port}${path}`, { method, headers });
      return { status: response.status, body: await response.text() };
    };
  }

  it('is ready only while Redis answers, the workers run and no shutdown began', async () => {
    const get = await start();
    expect(await get('/readyz')).toEqual({ status: 200, body: '{"status":"ready"}' });
    redisUp = false;
    expect(await get('/readyz')).toEqual({ status: 503, body: '{"status":"redis unavailable"}' });
    redisUp = true;
    running = false;
    expect(await get('/readyz')).toEqual({ status: 503, body: '{"status":"workers not running"}' });
    running = true;
    server?.markClosing();
    expect(await get('/readyz')).toEqual({ status: 503, body: '{"status":"closing"}' });
    // Liveness does not depend on any of that.
    expect((await get('/healthz')).status).toBe(200);
  });

  it('serves the metrics, and refuses other paths and methods', async () => {
    const get = await start();
    const metrics = await get('/metrics');
    expect(metrics.status).toBe(200);
    expect(metrics.body).toContain('# TYPE kup_jobs gauge');
    expect((await get('/metrics?x=1')).status).toBe(200);
    expect((await get('/other')).status).toBe(404);
    expect((await get('/healthz', 'POST')).status).toBe(405);
  });

  it('with WORKER_METRICS_TOKEN, serves metrics only to a bearer of one of the tokens; probes stay open', async () => {
    const tokens = ['metrics-token-0123456789', 'metrics-token-rotated-987'];
    const get = await start(tokens);
    const attempts: Record<string, string>[] = [{}, { authorization: 'Bearer wrong-token-0123456789' }, { authorization: `Basic ${tokens[0]}` },
      { authorization: tokens[0] as string }, { authorization: 'Bearer ' }, { authorization: `Bearer ${tokens[0]}x` }];
    for (const headers of attempts) {
      const refused = await get('/metrics', 'GET', headers);
      expect(refused, JSON.stringify(headers)).toEqual({ status: 401, body: '{"status":"unauthorized"}' });
    }
    for (const token of tokens) {
      const metrics = await get('/metrics', 'GET', { authorization: `Bearer ${token}` });
      expect(metrics.status).toBe(200);
      expect(metrics.body).toContain('# TYPE kup_jobs gauge');
    }
    expect((await get('/healthz')).status).toBe(200);
    expect((await get('/readyz')).status).toBe(200);
  });

  it('stops listening on close', async () => {
    const get = await start();
    await server?.close();
    await expect(get('/healthz')).rejects.toThrow();
  });
});
