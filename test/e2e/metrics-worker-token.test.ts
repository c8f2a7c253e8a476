// WORKER_METRICS_TOKEN on the worker app as main.ts builds it: /metrics wants the bearer
// token, the kubelet's probes do not.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WorkerApp } from '@kup/worker';
import { LogCapture } from '../helpers/logs.js';
import { startTestWorkerApp } from '../helpers/service.js';
import { uniquePrefix } from '../helpers/names.js';
import { dropPrefix } from '../helpers/redis.js';
import { eventually, stackEnv, workerConfig } from '../helpers/stack.js';

describe('worker: /metrics behind WORKER_METRICS_TOKEN', () => {
  const token = randomBytes(24).toString('hex');
  const prefix = uniquePrefix();
  let app: WorkerApp;
  let base: string;
  const get = (path: string, headers: Record<string, string> = {}) =>
    fetch(`${base}${path}`, { headers, signal: AbortSignal.timeout(5_000) });

  beforeAll(async () => {
    const config = workerConfig({ QUEUE_PREFIX: prefix, WORKER_METRICS_TOKEN: token });
    app = await startTestWorkerApp(config, new LogCapture(), 'warn');
    base = `http://127.0.0.1:${app.health.server.port}`;
  });

  afterAll(async () => {
    await app?.close(10_000);
    // The app's schedulers and queue keys, under this test's own prefix.
    await dropPrefix(stackEnv('REDIS_URL'), prefix);
  });

  it('refuses /metrics without the token, or with another, and names no metric', async () => {
    const attempts: Record<string, string>[] = [{}, { authorization: `Bearer ${randomBytes(24).toString('hex')}` }, { authorization: token }];
    for (const headers of attempts) {
      const response = await get('/metrics', headers);
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toMatch(/^Bearer/);
      expect(await response.text()).not.toContain('kup_');
    }
  });

  it('serves /metrics to the bearer of the token', async () => {
    const response = await get('/metrics', { authorization: `Bearer ${token}` });
    expect(response.status).toBe(200);
    expect(await response.text()).toContain('# TYPE kup_jobs gauge');
  });

  it('keeps /healthz and /readyz open', async () => {
    expect((await get('/healthz')).status).toBe(200);
    await eventually('ready', async () => ((await get('/readyz')).status === 200 ? true : undefined), 15_000);
  });
});
