// One create is one trace: the API's request span, the BullMQ producer span, the worker's
// consumer span (continued from the trace context in the job's data) and every upstream
// call under it, collected in memory against the real stack. The request id rides in the
// job's data into every worker log line of the job. No secret lands in a span.
import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-node';
import { SpanKind } from '@opentelemetry/api';
import { createJobId, startTracing, type TracingSdk } from '@kup/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../helpers/api-app.js';
import { emailOf, randomSuffix, uniquePrefix, uniqueUsername } from '../helpers/names.js';
import { ensureTraineeClusterRole } from '../helpers/stack.js';
import { testWorker, waitForJob, type TestWorker } from '../helpers/worker.js';

describe('tracing: request → job → upstream calls', () => {
  const exporter = new InMemorySpanExporter();
  let sdk: TracingSdk | undefined;
  let api: TestApp;
  let w: TestWorker;
  const username = uniqueUsername('t-trace');
  const requestId = `trace-${randomSuffix()}`;

  beforeAll(async () => {
    await ensureTraineeClusterRole();
    sdk = await startTracing({ serviceName: 'kup-test', spanProcessors: [new SimpleSpanProcessor(exporter)] });
    const prefix = uniquePrefix();
    [api, w] = await Promise.all([buildTestApp({ QUEUE_PREFIX: prefix }), testWorker({ overrides: { QUEUE_PREFIX: prefix } })]);
  });

  afterAll(async () => {
    const deleted = await w?.addDelete({ usernames: [username] }).catch(() => undefined);
    if (deleted?.id) await waitForJob(w.queue, deleted.id, 150_000).catch(() => undefined);
    await Promise.all([api?.close(), w?.close()]);
    await sdk?.shutdown();
  });

  it('ties the request, the job and every upstream call into one trace, and the request id into the job log', async () => {
    const response = await api.inject({
      method: 'POST', url: '/provisioner', headers: { ...api.auth, 'x-request-id': requestId }, payload: { email: emailOf(username) },
    });
    expect(response.statusCode, response.body).toBe(202);
    const jobId = createJobId(username);
    const done = await waitForJob(w.queue, jobId, 120_000);
    expect(done.state, done.job.failedReason).toBe('completed');
    await sdk?.forceFlush();
    const spans = exporter.getFinishedSpans();

    const server = spans.find((s) => s.kind === SpanKind.SERVER && s.attributes['kup.request_id'] === requestId);
    expect(server?.name).toBe('POST /provisioner');
    expect(server?.attributes['http.response.status_code']).toBe(202);
    const traceId = server?.spanContext().traceId;
    // The trace context travels in the job's data, through Redis.
    expect(done.job.data.requestId).toBe(requestId);
    expect(done.job.data.trace?.traceparent).toMatch(new RegExp(`^00-${traceId}-[0-9a-f]{16}-01$`));

    const inTrace = spans.filter((s) => s.spanContext().traceId === traceId);
    const byId = new Map(inTrace.map((s) => [s.spanContext().spanId, s]));
    const parentOf = (s: ReadableSpan) => byId.get(s.parentSpanContext?.spanId ?? '');
    const producer = inTrace.find((s) => s.kind === SpanKind.PRODUCER && s.attributes['messaging.message.id'] === jobId);
    expect(producer?.name).toBe('send provisioning');
    expect(parentOf(producer as ReadableSpan)).toBe(server);
    const consumer = inTrace.find((s) => s.kind === SpanKind.CONSUMER && s.attributes['messaging.message.id'] === jobId);
    expect(consumer?.name).toBe('process provisioning');
    expect(parentOf(consumer as ReadableSpan)).toBe(producer);
    expect(consumer?.attributes['kup.request_id']).toBe(requestId);
    // Every attempt of this job is in this trace (none started a trace of its own).
    expect(spans.filter((s) => s.kind === SpanKind.CONSUMER && s.attributes['messaging.message.id'] === jobId && s.spanContext().traceId !== traceId)).toEqual([]);

    const underConsumer = (s: ReadableSpan): boolean => {
      for (let p = parentOf(s); p; p = parentOf(p)) if (p === consumer) return true;
      return false;
    };
    const upstream = inTrace.filter((s) => s.attributes['kup.upstream.system'] !== undefined);
    for (const name of ['keycloak create user', 'kubernetes apply Namespace', 'kubernetes apply RoleBinding', 'grafana create user']) {
      const call = upstream.find((s) => s.name === name);
      expect(call, name).toBeDefined();
      expect(underConsumer(call as ReadableSpan), name).toBe(true);
    }
    // The HTTP requests themselves (undici: Keycloak and Grafana) sit under their upstream call.
    const http = inTrace.filter((s) => s.kind === SpanKind.CLIENT && s.attributes['http.request.method'] !== undefined);
    const systems = new Set(http.map((s) => parentOf(s)?.attributes['kup.upstream.system']));
    expect(systems).toContain('keycloak');
    expect(systems).toContain('grafana');
    for (const s of http) expect(underConsumer(s), s.name).toBe(true);

    // Every worker log line of this job names the request; those logged inside it, the trace too.
    const jobLines = w.logs.map((line) => JSON.parse(line) as Record<string, unknown>).filter((line) => line.jobId === jobId);
    expect(jobLines.map((line) => line.msg)).toContain('job completed');
    for (const line of jobLines) expect(line, String(line.msg)).toMatchObject({ requestId });
    const inside = jobLines.filter((line) => line.username === username);
    expect(inside.length).toBeGreaterThan(0);
    for (const line of inside) expect(line, String(line.msg)).toMatchObject({ requestId, traceId });

    // No secret in any span: the trainee's password, the API token, the Keycloak client secret.
    const password = await w.passwordOf(done.job);
    expect(password).toBeTruthy();
    const recorded = JSON.stringify(spans.map((s) => [s.name, s.attributes, s.events, s.status]));
    for (const secret of [password, ...api.tokens, process.env.KEYCLOAK_CLIENT_SECRET, process.env.GRAFANA_ADMIN_PASSWORD]) {
      if (secret) expect(recorded).not.toContain(secret);
    }
  });

  it('continues the trace of a caller that sends a traceparent', async () => {
    const callerTrace = randomSuffix(16);
    const response = await api.inject({
      method: 'GET', url: `/jobs/none-${randomSuffix()}`, headers: { ...api.auth, traceparent: `00-${callerTrace}-${randomSuffix(8)}-01` },
    });
    expect(response.statusCode).toBe(404);
    await sdk?.forceFlush();
    const server = exporter.getFinishedSpans().find((s) => s.kind === SpanKind.SERVER && s.spanContext().traceId === callerTrace);
    expect(server?.name).toBe('GET /jobs/:id');
  });
});
