import type { FastifyInstance, FastifyRequest } from 'fastify';
import { SpanKind, SpanStatusCode, requestScope, runInSpan, startSpan, tracingEnabled, type Span } from '@kup/core';

/**
 * One server span per request (when tracing is on), continuing a caller's `traceparent`,
 * and every route handler run inside it and inside `requestScope` (always), so the jobs a
 * request adds carry its request id and trace context (JobSubmitter).
 *
 * Hooks of our own rather than an HTTP or Fastify auto-instrumentation: those patch
 * modules at load time (an ESM loader hook for our code) and do not see `inject`ed
 * requests; these few lines are the whole of it. With tracing off when the app is built
 * (no OTLP endpoint: main.ts starts tracing first), the span hooks are not even added: two
 * hooks per request that would only find no span (docs/benchmarks.md, P1).
 * Register before the routes (onRoute only sees routes added after it).
 */
export function registerTracing(app: FastifyInstance): void {
  const spans = new WeakMap<FastifyRequest, Span>();

  app.addHook('onRoute', (route) => {
    const handler = route.handler;
    route.handler = function traced(this: FastifyInstance, request, reply) {
      return runInSpan(spans.get(request), () => requestScope.run({ requestId: request.id }, () => handler.call(this, request, reply)));
    };
  });
  if (!tracingEnabled()) return;

  app.addHook('onRequest', async (request) => {
    const route = request.routeOptions.url;
    const span = startSpan(route ? `${request.method} ${route}` : request.method, {
      kind: SpanKind.SERVER,
      carrier: request.headers,
      attributes: {
        'http.request.method': request.method,
        'url.path': request.url.split('?')[0],
        'url.scheme': request.protocol,
        ...(route ? { 'http.route': route } : {}),
        'kup.request_id': request.id,
      },
    });
    if (span) spans.set(request, span);
  });

  app.addHook('onResponse', async (request, reply) => {
    const span = spans.get(request);
    if (!span) return;
    span.setAttribute('http.response.status_code', reply.statusCode);
    if (reply.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
    span.end();
  });
}
