import { trace, type ProxyTracerProvider } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import { inSpan, jobLogFields, jobParentContext, jobTraceFields, requestScope, startSpan, startTracing, tracingEnabled } from './index.js';

describe('tracing off (no OTLP endpoint)', () => {
  it('starts nothing without an endpoint, or when OTEL_SDK_DISABLED=true', async () => {
    expect(await startTracing({ serviceName: 'unit', env: {} })).toBeUndefined();
    expect(await startTracing({ serviceName: 'unit', env: { OTEL_EXPORTER_OTLP_ENDPOINT: '' } })).toBeUndefined();
    expect(await startTracing({ serviceName: 'unit', env: { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', OTEL_SDK_DISABLED: 'true' } })).toBeUndefined();
    expect(tracingEnabled()).toBe(false);
    // No provider registered: the API's global proxy still delegates to the no-op one.
    expect((trace.getTracerProvider() as ProxyTracerProvider).getDelegate().constructor.name).toBe('NoopTracerProvider');
  });

  it('still carries the request id into job data and log fields, without a trace context', async () => {
    expect(jobTraceFields()).toEqual({});
    const fields = requestScope.run({ requestId: 'req-1' }, () => jobTraceFields());
    expect(fields).toEqual({ requestId: 'req-1' });
    expect(jobLogFields({ data: { username: 'x', ...fields } })).toEqual({ requestId: 'req-1' });
    expect(jobLogFields({ data: undefined })).toEqual({});
  });

  it('runs work without creating spans', async () => {
    let seen: unknown = 'unset';
    expect(await inSpan('x', {}, async (span) => {
      seen = span;
      return 42;
    })).toBe(42);
    expect(seen).toBeUndefined();
    await expect(inSpan('x', {}, async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(startSpan('x', { carrier: { traceparent: `00-${'a'.repeat(32)}-${'b'.repeat(16)}-01` } })).toBeUndefined();
    expect(trace.getSpan(jobParentContext({ trace: { traceparent: `00-${'a'.repeat(32)}-${'b'.repeat(16)}-01` } }))).toBeUndefined();
  });
});

describe('the SDK stays out of a process without tracing', () => {
  it('is imported (statically) by sdk.ts alone, and sdk.ts only dynamically or for types', async () => {
    const { readdirSync, readFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    const root = new URL('..', import.meta.url).pathname;
    const files = (readdirSync(root, { recursive: true }) as string[]).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'));
    expect(files.length).toBeGreaterThan(20);
    const heavy = /^import (?!type )[^;]*from '@opentelemetry\/(?!api')/m;
    expect(files.filter((f) => heavy.test(readFileSync(join(root, f), 'utf8')))).toEqual([join('tracing', 'sdk.ts')]);
    const staticSdk = /^import (?!type )[^;]*from '\.\/sdk\.js'/m;
    expect(files.filter((f) => staticSdk.test(readFileSync(join(root, f), 'utf8')))).toEqual([]);
  });
});
