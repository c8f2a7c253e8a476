import { Counter, Histogram } from 'prom-client';
import { UpstreamError, isRetryableStatus, type UpstreamSystem } from '../errors.js';
import { inSpan } from '../tracing/trace.js';
import { metricsRegistry } from './registry.js';

/**
 * How a call to an upstream system ended: `ok`, `not_found` (a 404, often expected:
 * "is it there?"), `client_error` (another 4xx: permanent unless 408/429),
 * `server_error` (5xx), `unreachable` (network error, timeout, abort).
 */
export type UpstreamOutcome = 'ok' | 'not_found' | 'client_error' | 'server_error' | 'unreachable';

export const upstreamRequests = new Counter({
  name: 'kup_upstream_requests_total',
  help: 'Calls to upstream systems (keycloak, kubernetes, grafana) by operation and outcome',
  labelNames: ['system', 'operation', 'outcome'] as const,
  registers: [metricsRegistry],
});

export const upstreamDuration = new Histogram({
  name: 'kup_upstream_request_duration_seconds',
  help: 'Duration of calls to upstream systems, retries inside one call included',
  labelNames: ['system', 'operation'] as const,
  buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
  registers: [metricsRegistry],
});

export const upstreamErrors = new Counter({
  name: 'kup_upstream_errors_total',
  help: 'Failed calls to upstream systems (every outcome but ok and not_found), by whether a retry may help',
  labelNames: ['system', 'retryable'] as const,
  registers: [metricsRegistry],
});

export function outcomeOf(error: unknown): UpstreamOutcome {
  const status = error instanceof UpstreamError ? error.status : undefined;
  if (status === undefined) return 'unreachable';
  if (status === 404) return 'not_found';
  return status >= 500 ? 'server_error' : 'client_error';
}

/**
 * Runs one upstream call and records it (metrics, and a span `<system> <operation>` that
 * holds the HTTP client spans of the call). `operation` must be a small fixed set of
 * values (`create user`, `apply Namespace`), never a name or an id. Call it where the
 * adapter translates failures, so that a failure is already an `UpstreamError`.
 */
export function timeUpstream<T>(system: UpstreamSystem, operation: string, call: () => Promise<T>): Promise<T> {
  const attributes = { 'kup.upstream.system': system, 'kup.upstream.operation': operation };
  return inSpan(`${system} ${operation}`, { attributes }, () => measured(system, operation, call));
}

async function measured<T>(system: UpstreamSystem, operation: string, call: () => Promise<T>): Promise<T> {
  const stop = upstreamDuration.startTimer({ system, operation });
  try {
    const value = await call();
    upstreamRequests.inc({ system, operation, outcome: 'ok' });
    return value;
  } catch (error) {
    const outcome = outcomeOf(error);
    upstreamRequests.inc({ system, operation, outcome });
    if (outcome !== 'not_found') {
      const status = error instanceof UpstreamError ? error.status : undefined;
      upstreamErrors.inc({ system, retryable: String(isRetryableStatus(status)) });
    }
    throw error;
  } finally {
    stop();
  }
}
