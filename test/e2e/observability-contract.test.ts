// Observability as code: every metric an alert rule (k8s/components/monitoring) or a
// dashboard panel (deploy/grafana/dashboards) reads is in the real /metrics of the api or
// the worker, and the oldest-waiting-job age is read right from a real Redis queue.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { countJobs, scrapeMetrics } from '@kup/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { buildTestApp, type TestApp } from '../helpers/api-app.js';
import { uniquePrefix } from '../helpers/names.js';
import { sampleValue } from '../helpers/prometheus.js';
import { repoRoot } from '../helpers/service-account-kubeconfig.js';
import { stackEnv } from '../helpers/stack.js';
import { testWorker, type TestWorker } from '../helpers/worker.js';

type Rule = { alert?: string; record?: string; expr: string; for?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
type PrometheusRule = { apiVersion: string; kind: string; spec: { groups: { name: string; rules: Rule[] }[] } };
type Panel = { type: string; title: string; datasource?: { uid?: string }; targets?: { expr: string }[]; panels?: Panel[] };
type Dashboard = { uid: string; panels: Panel[]; templating: { list: { name: string; definition?: string }[] } };

const read = (path: string): string => readFileSync(join(repoRoot, path), 'utf8');
const rules = parse(read('k8s/components/monitoring/prometheus-rule.yaml')) as PrometheusRule;
const dashboard = JSON.parse(read('deploy/grafana/dashboards/k8s-user-provisioner.json')) as Dashboard;
const allPanels = (panels: Panel[]): Panel[] => panels.flatMap((p) => [p, ...allPanels(p.panels ?? [])]);

/** Our metrics all start with `kup_`: the names an expression reads. */
const metricNames = (expr: string): string[] => [...expr.matchAll(/\bkup_[a-zA-Z0-9_]+/g)].map((m) => m[0]);

/** Metric families a scrape declares (`# TYPE name type`): histograms also answer to `_bucket`, `_count`, `_sum`. */
function families(text: string): Map<string, string> {
  return new Map([...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => [m[1] as string, m[2] as string]));
}
function declares(scraped: Map<string, string>, name: string): boolean {
  if (scraped.has(name)) return true;
  const base = name.replace(/_(bucket|count|sum)$/, '');
  return base !== name && ['histogram', 'summary'].includes(scraped.get(base) ?? '');
}

describe('alert rules and dashboard against real /metrics', () => {
  let api: TestApp;
  let w: TestWorker;
  let apiMetrics: Map<string, string>;
  let workerMetrics: Map<string, string>;

  beforeAll(async () => {
    [api, w] = await Promise.all([buildTestApp({ METRICS_PUBLIC: 'true' }), testWorker()]);
    const apiScrape = await api.inject({ method: 'GET', url: '/metrics' });
    expect(apiScrape.statusCode).toBe(200);
    apiMetrics = families(apiScrape.body);
    const port = w.app?.health.server.port;
    const workerScrape = await fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(10_000) });
    expect(workerScrape.status).toBe(200);
    workerMetrics = families(await workerScrape.text());
  });

  afterAll(async () => {
    await Promise.all([api?.close(), w?.close()]);
  });

  it('is a PrometheusRule whose every alert has an expression, a severity and a summary', () => {
    expect(rules.apiVersion).toBe('monitoring.coreos.com/v1');
    expect(rules.kind).toBe('PrometheusRule');
    const all = rules.spec.groups.flatMap((g) => g.rules);
    expect(all.length).toBeGreaterThanOrEqual(5);
    for (const rule of all) {
      expect(rule.alert, rule.expr).toMatch(/^Kup[A-Za-z]+$/);
      expect(metricNames(rule.expr).length, `${rule.alert} reads a kup_ metric`).toBeGreaterThan(0);
      expect(['critical', 'warning'], rule.alert).toContain(rule.labels?.severity);
      expect(rule.annotations?.summary, rule.alert).toBeTruthy();
    }
    // The alert docs/operations.md promises: page when a create waits over 10 minutes.
    const page = all.find((r) => r.labels?.severity === 'critical' && r.expr.includes('kup_queue_oldest_waiting_job_age_seconds'));
    expect(page?.expr).toMatch(/queue="provisioning"\}\) > 600$/);
  });

  it('has panels for queue depth and age, job outcomes and durations, upstream latency and errors, API rate and latency', () => {
    const exprs = allPanels(dashboard.panels).flatMap((p) => (p.targets ?? []).map((t) => t.expr)).join('\n');
    for (const name of [
      'kup_jobs', 'kup_queue_oldest_waiting_job_age_seconds', 'kup_jobs_completed_total', 'kup_jobs_failed_total',
      'kup_job_duration_seconds_bucket', 'kup_upstream_request_duration_seconds_bucket', 'kup_upstream_errors_total',
      'kup_http_requests_total', 'kup_http_request_duration_seconds_bucket',
    ]) expect(metricNames(exprs), name).toContain(name);
    // Every query goes through the data source variable, so the JSON imports into any Grafana.
    // biome-ignore lint/suspicious/noTemplateCurlyInString: Grafana's dashboard variable syntax, literal
    for (const panel of allPanels(dashboard.panels).filter((p) => p.type !== 'row')) expect(panel.datasource?.uid, panel.title).toBe('${datasource}');
  });

  it('reads only metrics that the api or the worker really serve', () => {
    const used = new Set([
      ...rules.spec.groups.flatMap((g) => g.rules.flatMap((r) => metricNames(r.expr))),
      ...allPanels(dashboard.panels).flatMap((p) => (p.targets ?? []).flatMap((t) => metricNames(t.expr))),
      ...dashboard.templating.list.flatMap((v) => metricNames(v.definition ?? '')),
    ]);
    expect(used.size).toBeGreaterThan(10);
    const missing = [...used].filter((name) => !declares(apiMetrics, name) && !declares(workerMetrics, name));
    expect(missing).toEqual([]);
    // The split the docs describe: HTTP metrics from the api, queue and job metrics from the worker.
    expect(declares(apiMetrics, 'kup_http_requests_total')).toBe(true);
    expect(declares(workerMetrics, 'kup_queue_oldest_waiting_job_age_seconds')).toBe(true);
    expect(declares(workerMetrics, 'kup_upstream_errors_total')).toBe(true);
  });
});

describe('kup_queue_oldest_waiting_job_age_seconds on a real queue', () => {
  const prefix = uniquePrefix();
  let redis: Redis;
  let queue: Queue;

  beforeAll(() => {
    redis = new Redis(stackEnv('REDIS_URL'), { maxRetriesPerRequest: null });
    // No worker reads this queue: its jobs stay waiting.
    queue = new Queue('age-probe', { connection: redis, prefix });
  });

  afterAll(async () => {
    await queue?.obliterate({ force: true }).catch(() => undefined);
    await queue?.close();
    redis?.disconnect();
  });

  it('is the age of the oldest waiting job, not the newest, and 0 once none waits', async () => {
    const stop = countJobs([queue]);
    try {
      const age = async () => sampleValue((await scrapeMetrics()).body, 'kup_queue_oldest_waiting_job_age_seconds', { queue: 'age-probe' });
      expect(await age()).toBe(0);
      await queue.add('old', {}, { timestamp: Date.now() - 900_000 });
      await queue.add('new', {}, { timestamp: Date.now() - 5_000 });
      const seconds = await age();
      expect(seconds).toBeGreaterThanOrEqual(900);
      expect(seconds).toBeLessThan(960);
      await queue.drain();
      expect(await age()).toBe(0);
    } finally {
      stop();
    }
  });
});
