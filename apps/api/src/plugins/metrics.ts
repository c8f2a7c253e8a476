import type { FastifyInstance } from 'fastify';
import { enableProcessMetrics, httpDuration, httpRequests, scrapeMetrics } from '@kup/core';

export interface MetricsOptions {
  /** Serve `/metrics` without a token (METRICS_PUBLIC). */
  public: boolean;
}

/** Requests that matched no route share one label, so random URLs cannot grow the series. */
const UNMATCHED = '(unmatched)';

/**
 * `GET /metrics` for Prometheus (a token unless METRICS_PUBLIC) and the HTTP counters
 * and latency by route pattern and status. Registered on the root instance, so every
 * route counts, 401s and 404s included.
 */
export function registerMetrics(app: FastifyInstance, options: MetricsOptions): void {
  enableProcessMetrics();

  // `done` rather than async: no promise per request for work that never waits.
  app.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url ?? UNMATCHED;
    const method = request.method;
    httpRequests.inc({ method, route, status: String(reply.statusCode) });
    httpDuration.observe({ method, route }, reply.elapsedTime / 1000);
    done();
  });

  app.get(
    '/metrics',
    { config: { public: options.public }, schema: { hide: true } },
    async (_request, reply) => {
      const { contentType, body } = await scrapeMetrics();
      return reply.type(contentType).header('cache-control', 'no-store').send(body);
    },
  );
}
