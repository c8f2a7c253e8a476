import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { UpstreamError } from '../errors.js';
import {
  countJobs,
  metricsRegistry,
  observeWorkers,
  outcomeOf,
  timeUpstream,
  willRetry,
  type ObservedJob,
  type ObservedWorker,
} from './index.js';

async function value(name: string, labels: Record<string, string>): Promise<number | undefined> {
  // A histogram's `_count` and `_sum` are values of the histogram itself.
  const base = name.replace(/_(count|sum)$/, '');
  const metric = await (metricsRegistry.getSingleMetric(name) ?? metricsRegistry.getSingleMetric(base))?.get();
  const found = metric?.values.find(
    (v) => ((v as { metricName?: string }).metricName ?? name) === name && Object.entries(labels).every(([key, want]) => v.labels[key] === want),
  );
  return found?.value;
}

describe('metrics registry', () => {
  it('holds every metric under kup_ with its labels', async () => {
    const metrics = await metricsRegistry.getMetricsAsJSON();
    const byName = new Map(metrics.map((m) => [m.name, m]));
    const expected: Record<string, [type: string, labels: string[]]> = {
      kup_upstream_requests_total: ['counter', ['system', 'operation', 'outcome']],
      kup_upstream_request_duration_seconds: ['histogram', ['system', 'operation']],
      kup_upstream_errors_total: ['counter', ['system', 'retryable']],
      kup_jobs: ['gauge', ['queue', 'state']],
      kup_queue_oldest_waiting_job_age_seconds: ['gauge', ['queue']],
      kup_job_duration_seconds: ['histogram', ['queue', 'name', 'outcome']],
      kup_jobs_completed_total: ['counter', ['queue', 'name']],
      kup_jobs_failed_total: ['counter', ['queue', 'name']],
      kup_jobs_retried_total: ['counter', ['queue', 'name']],
      kup_jobs_stalled_total: ['counter', ['queue']],
      kup_http_requests_total: ['counter', ['method', 'route', 'status']],
      kup_http_request_duration_seconds: ['histogram', ['method', 'route']],
    };
    for (const [name, [type, labels]] of Object.entries(expected)) {
      expect(byName.get(name)?.type, name).toBe(type);
      const metric = metricsRegistry.getSingleMetric(name) as unknown as { labelNames: string[] };
      expect(metric.labelNames, name).toEqual(labels);
    }
    for (const name of byName.keys()) expect(name).toMatch(/^kup_/);
  });
});

describe('timeUpstream', () => {
  it('counts an answer as ok and times it', async () => {
    const before = (await value('kup_upstream_requests_total', { system: 'grafana', operation: 'look up user', outcome: 'ok' })) ?? 0;
    await expect(timeUpstream('grafana', 'look up user', async () => 42)).resolves.toBe(42);
    expect(await value('kup_upstream_requests_total', { system: 'grafana', operation: 'look up user', outcome: 'ok' })).toBe(before + 1);
    const count = await value('kup_upstream_request_duration_seconds_count', { system: 'grafana', operation: 'look up user' });
    expect(count).toBeGreaterThanOrEqual(1);
  });

  it('counts failures by outcome, rethrows them, and counts errors per system', async () => {
    const errorsBefore = (await value('kup_upstream_errors_total', { system: 'keycloak', retryable: 'true' })) ?? 0;
    const failing = new UpstreamError('keycloak', 'create user', 503);
    await expect(timeUpstream('keycloak', 'create user', () => Promise.reject(failing))).rejects.toBe(failing);
    expect(await value('kup_upstream_requests_total', { system: 'keycloak', operation: 'create user', outcome: 'server_error' })).toBe(1);
    expect(await value('kup_upstream_errors_total', { system: 'keycloak', retryable: 'true' })).toBe(errorsBefore + 1);

    // A 404 is an answer ("not there"), not an error of the system.
    await expect(timeUpstream('keycloak', 'find user', () => Promise.reject(new UpstreamError('keycloak', 'find user', 404)))).rejects.toThrow();
    expect(await value('kup_upstream_errors_total', { system: 'keycloak', retryable: 'true' })).toBe(errorsBefore + 1);
  });

  it('maps statuses to outcomes', () => {
    expect(outcomeOf(new UpstreamError('kubernetes', 'x', undefined))).toBe('unreachable');
    expect(outcomeOf(new Error('boom'))).toBe('unreachable');
    expect(outcomeOf(new UpstreamError('kubernetes', 'x', 404))).toBe('not_found');
    expect(outcomeOf(new UpstreamError('kubernetes', 'x', 422))).toBe('client_error');
    expect(outcomeOf(new UpstreamError('kubernetes', 'x', 429))).toBe('client_error');
    expect(outcomeOf(new UpstreamError('kubernetes', 'x', 500))).toBe('server_error');
  });
});

describe('job metrics', () => {
  const job = (attemptsMade: number, attempts = 3): ObservedJob => ({
    name: 'create',
    attemptsMade,
    opts: { attempts },
    processedOn: Date.now() - 1500,
    finishedOn: Date.now(),
  });

  it('tells a retried attempt from a final failure', () => {
    expect(willRetry(job(1), new Error('x'))).toBe(true);
    expect(willRetry(job(3), new Error('x'))).toBe(false);
    const permanent = Object.assign(new Error('no'), { name: 'UnrecoverableError' });
    expect(willRetry(job(1), permanent)).toBe(false);
  });

  it('counts worker events by queue and job name, and times the attempts', async () => {
    const worker = Object.assign(new EventEmitter(), { name: 'unit-queue' }) as unknown as ObservedWorker & EventEmitter;
    observeWorkers([worker]);
    worker.emit('completed', job(1));
    worker.emit('failed', job(1), new Error('retry me'));
    worker.emit('failed', job(3), new Error('spent'));
    worker.emit('failed', undefined, new Error('no job'));
    worker.emit('stalled', 'id-1');
    const labels = { queue: 'unit-queue', name: 'create' };
    expect(await value('kup_jobs_completed_total', labels)).toBe(1);
    expect(await value('kup_jobs_retried_total', labels)).toBe(1);
    expect(await value('kup_jobs_failed_total', labels)).toBe(1);
    expect(await value('kup_jobs_stalled_total', { queue: 'unit-queue' })).toBe(1);
    expect(await value('kup_job_duration_seconds_count', { ...labels, outcome: 'completed' })).toBe(1);
    expect(await value('kup_job_duration_seconds_sum', { ...labels, outcome: 'completed' })).toBeGreaterThan(1);
  });

  it('reads job counts of the counted queues on every scrape', async () => {
    let waiting = 2;
    const queue = { name: 'unit-counted', getJobCounts: async () => ({ waiting, completed: 5 }), getWaiting: async () => [] };
    const stop = countJobs([queue]);
    expect(await value('kup_jobs', { queue: 'unit-counted', state: 'waiting' })).toBe(2);
    waiting = 7;
    expect(await value('kup_jobs', { queue: 'unit-counted', state: 'waiting' })).toBe(7);
    expect(await value('kup_jobs', { queue: 'unit-counted', state: 'failed' })).toBe(0);
    stop();
    expect(await value('kup_jobs', { queue: 'unit-counted', state: 'waiting' })).toBeUndefined();
  });

  it('leaves out a queue whose count fails instead of failing the scrape', async () => {
    const down = () => Promise.reject(new Error('redis down'));
    const stop = countJobs([{ name: 'unit-down', getJobCounts: down, getWaiting: down }]);
    await expect(metricsRegistry.metrics()).resolves.toContain('kup_jobs');
    expect(await value('kup_jobs', { queue: 'unit-down' })).toBeUndefined();
    expect(await value('kup_queue_oldest_waiting_job_age_seconds', { queue: 'unit-down' })).toBeUndefined();
    stop();
  });

  it('reads the age of the oldest waiting job, from the end of its delay, 0 when none waits', async () => {
    let waiting: { timestamp: number; opts: { delay?: number } }[] = [{ timestamp: Date.now() - 90_000, opts: {} }];
    const stop = countJobs([{ name: 'unit-aged', getJobCounts: async () => ({}), getWaiting: async () => waiting }]);
    const age = () => value('kup_queue_oldest_waiting_job_age_seconds', { queue: 'unit-aged' });
    expect(await age()).toBeGreaterThanOrEqual(90);
    expect(await age()).toBeLessThan(120);
    waiting = [{ timestamp: Date.now() - 90_000, opts: { delay: 60_000 } }];
    expect(await age()).toBeGreaterThanOrEqual(30);
    expect(await age()).toBeLessThan(60);
    waiting = [];
    expect(await age()).toBe(0);
    stop();
    expect(await age()).toBeUndefined();
  });
});
