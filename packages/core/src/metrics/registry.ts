import { Registry, collectDefaultMetrics } from 'prom-client';

/** Every metric name starts with this. */
export const METRIC_PREFIX = 'kup_';

/**
 * The process's one registry: upstream calls (the adapters), jobs (the worker) and HTTP
 * requests (the API) register here, so one scrape of `/metrics` shows them all.
 */
export const metricsRegistry = new Registry();

let processMetrics = false;

/** Node's own metrics (CPU, memory, event loop lag, handles) as `kup_process_*` / `kup_nodejs_*`; once per process. */
export function enableProcessMetrics(): void {
  if (processMetrics) return;
  processMetrics = true;
  collectDefaultMetrics({ register: metricsRegistry, prefix: METRIC_PREFIX });
}

/** The text a Prometheus scrape reads. */
export async function scrapeMetrics(): Promise<{ contentType: string; body: string }> {
  return { contentType: metricsRegistry.contentType, body: await metricsRegistry.metrics() };
}
