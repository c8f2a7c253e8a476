// The worker's health port against the stack: liveness, readiness (503 once shutdown
// began, while a job still finishes), and /metrics after a real create and delete.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WorkerApp } from '@kup/worker';
import { LogCapture } from '../helpers/logs.js';
import { startTestWorkerApp } from '../helpers/service.js';
import { emailOf, uniqueUsername } from '../helpers/names.js';
import { sampleValue } from '../helpers/prometheus.js';
import { ensureTraineeClusterRole, eventually, } from '../helpers/stack.js';
import { testWorker, waitForJob, type TestWorker } from '../helpers/worker.js';

describe('worker: health port and metrics', () => {
  let w: TestWorker;
  // The app under test is this file's own: its last test closes it.
  let app: WorkerApp;
  let closed: Promise<void> | undefined;
  let base: string;
  const alice = uniqueUsername('t-metrics');
  const bob = uniqueUsername('t-metrics-close');

  const get = (path: string) => fetch(`${base}${path}`, { signal: AbortSignal.timeout(5_000) });
  const metrics = async () => {
    const response = await get('/metrics');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
    return response.text();
  };

  beforeAll(async () => {
    await ensureTraineeClusterRole();
    w = await testWorker({ startWorker: false });
    app = await startTestWorkerApp(w.config, new LogCapture(), 'warn');
    const port = app.health.server.port;
    expect(port).toBeGreaterThan(0);
    base = `http://127.0.0.1:${port}`;
  });

  afterAll(async () => {
    await (closed ?? app?.close(10_000));
    // Remove the trainees with another worker on the same queues.
    const cleaner = await testWorker({ overrides: { QUEUE_PREFIX: w.config.QUEUE_PREFIX } });
    for (const name of [alice, bob]) {
      const job = await cleaner.addDelete({ usernames: [name] }).catch(() => undefined);
      if (job?.id) await waitForJob(cleaner.queue, job.id, 150_000).catch(() => undefined);
    }
    await cleaner.close();
    await w?.close();
  });

  it('answers /healthz, /readyz once the workers run, 404 elsewhere', async () => {
    expect(await (await get('/healthz')).json()).toEqual({ status: 'ok' });
    await eventually('ready', async () => ((await get('/readyz')).status === 200 ? true : undefined), 15_000);
    expect(await (await get('/readyz')).json()).toEqual({ status: 'ready' });
    expect((await get('/nope')).status).toBe(404);
  });

  it('shows jobs by queue and state, job counters and upstream calls after a create and a delete', async () => {
    const created = await w.addCreate({ username: alice, email: emailOf(alice) });
    const done = await waitForJob(w.queue, created.id as string);
    expect(done.state, done.job.failedReason).toBe('completed');

    let text = await metrics();
    // Read from Redis at scrape time, for this test's own prefix: exactly this one job.
    expect(sampleValue(text, 'kup_jobs', { queue: 'provisioning', state: 'completed' })).toBe(1);
    expect(sampleValue(text, 'kup_jobs', { queue: 'provisioning', state: 'active' })).toBe(0);
    expect(sampleValue(text, 'kup_jobs', { queue: 'fleet', state: 'waiting' })).toBe(0);
    // Nothing waits for a worker any more: the oldest waiting job's age is 0, for every queue.
    for (const queue of ['provisioning', 'fleet', 'fleet-user', 'fleet-schedules', 'webhooks']) {
      expect(sampleValue(text, 'kup_queue_oldest_waiting_job_age_seconds', { queue }), queue).toBe(0);
    }
    expect(sampleValue(text, 'kup_jobs_completed_total', { queue: 'provisioning', name: 'create' })).toBeGreaterThanOrEqual(1);
    expect(sampleValue(text, 'kup_job_duration_seconds_count', { queue: 'provisioning', name: 'create', outcome: 'completed' })).toBeGreaterThanOrEqual(1);
    for (const [system, operation] of [
      ['keycloak', 'create user'],
      ['kubernetes', 'apply Namespace'],
      ['kubernetes', 'apply RoleBinding'],
      ['grafana', 'create user'],
    ] as const) {
      const labels = { system, operation, outcome: 'ok' };
      expect(sampleValue(text, 'kup_upstream_requests_total', labels), `${system} ${operation}`).toBeGreaterThanOrEqual(1);
      expect(sampleValue(text, 'kup_upstream_request_duration_seconds_count', { system, operation })).toBeGreaterThanOrEqual(1);
    }
    // Labels name operations, never trainees.
    expect(text).not.toContain(alice);
    expect(text).toContain('kup_process_resident_memory_bytes');

    const deleted = await w.addDelete({ usernames: [alice] });
    expect((await waitForJob(w.queue, deleted.id as string, 150_000)).state).toBe('completed');
    text = await metrics();
    expect(sampleValue(text, 'kup_jobs', { queue: 'provisioning', state: 'completed' })).toBe(2);
    expect(sampleValue(text, 'kup_jobs_completed_total', { queue: 'provisioning', name: 'delete' })).toBeGreaterThanOrEqual(1);
    expect(sampleValue(text, 'kup_upstream_requests_total', { system: 'keycloak', operation: 'delete user', outcome: 'ok' })).toBeGreaterThanOrEqual(1);
  });

  it('answers /readyz 503 as soon as close begins, while the active job finishes', async () => {
    const job = await w.addCreate({ username: bob, email: emailOf(bob) });
    await eventually('create active', async () => ((await job.getState()) === 'active' ? true : undefined), 30_000, 50);

    const closing = app.close(60_000);
    closed = closing;
    const readiness = await get('/readyz');
    expect(readiness.status).toBe(503);
    expect(await readiness.json()).toEqual({ status: 'closing' });
    // Still alive: the kubelet must not kill a pod that is finishing its jobs.
    expect((await get('/healthz')).status).toBe(200);

    await closing;
    expect(await job.getState()).toBe('completed');
    await expect(get('/healthz')).rejects.toThrow();
  });
});
