import { Counter, Histogram } from 'prom-client';
import { metricsRegistry } from './registry.js';

/** HTTP requests the API answered; `route` is the route pattern (`/jobs/:id`), never the URL. */
export const httpRequests = new Counter({
  name: 'kup_http_requests_total',
  help: 'HTTP requests answered, by method, route pattern and status code',
  labelNames: ['method', 'route', 'status'] as const,
  registers: [metricsRegistry],
});

export const httpDuration = new Histogram({
  name: 'kup_http_request_duration_seconds',
  help: 'Time to answer an HTTP request, by method and route pattern',
  labelNames: ['method', 'route'] as const,
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
  registers: [metricsRegistry],
});
