// Tracing as the code sees it: only @opentelemetry/api, whose calls are no-ops until an SDK
// registers (sdk.ts, loaded by startTracing only when an OTLP endpoint is set). When
// tracing is off, `inSpan` does not even create a no-op span.
import { AsyncLocalStorage } from 'node:async_hooks';
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, context, propagation, trace, type Attributes, type Context, type Span } from '@opentelemetry/api';
import { describeError } from '../errors.js';

export const TRACER_NAME = 'k8s-user-provisioner';

let enabled = false;

/** Whether an SDK runs in this process (set by sdk.ts). */
export function tracingEnabled(): boolean {
  return enabled;
}

/** @internal sdk.ts only. */
export function setTracingEnabled(on: boolean): void {
  enabled = on;
}

export function tracer() {
  return trace.getTracer(TRACER_NAME);
}

/**
 * The request a piece of work runs for. The API runs every route handler in it
 * (plugins/tracing.ts), so code deep down (the job submitter) can put the request id in the
 * jobs it adds without every route passing it along.
 */
export const requestScope = new AsyncLocalStorage<{ requestId: string }>();

/** What the API adds to every job's data: who asked (the request id) and the W3C trace context. */
export interface TracedJobData {
  requestId?: string;
  /** `traceparent` (and `tracestate`) of the span that added the job; absent when tracing is off. */
  trace?: Record<string, string>;
}

/** The request id and trace context of the current request and span, for a job's data. */
export function jobTraceFields(): TracedJobData {
  const requestId = requestScope.getStore()?.requestId;
  const carrier: Record<string, string> = {};
  if (enabled) propagation.inject(context.active(), carrier);
  return { ...(requestId ? { requestId } : {}), ...(Object.keys(carrier).length > 0 ? { trace: carrier } : {}) };
}

/** The context a job's span continues: the one its producer put in the job's data, else a new trace. */
export function jobParentContext(data: unknown): Context {
  const carrier = (data as TracedJobData | undefined)?.trace;
  return enabled && carrier && typeof carrier === 'object' ? propagation.extract(ROOT_CONTEXT, carrier) : ROOT_CONTEXT;
}

/** The fields every log line of a job carries to tie it to its request and trace. */
export function jobLogFields(job: { data: unknown }): { requestId?: string; traceId?: string } {
  const requestId = (job.data as TracedJobData | undefined)?.requestId;
  const traceId = enabled ? trace.getActiveSpan()?.spanContext().traceId : undefined;
  return { ...(typeof requestId === 'string' ? { requestId } : {}), ...(traceId ? { traceId } : {}) };
}

export interface SpanOptions {
  kind?: SpanKind;
  attributes?: Attributes;
  /** The parent; default: the active context. */
  parent?: Context;
}

/**
 * Runs `work` in a new active span, ended when it settles. A failure sets the span's status
 * to the error's code and message as our logs show them (describeError): never a raw
 * upstream body. BullMQ's DelayedError (a job put back, not failed) is no error.
 */
export async function inSpan<T>(name: string, options: SpanOptions, work: (span: Span | undefined) => Promise<T>): Promise<T> {
  if (!enabled) return work(undefined);
  const parent = options.parent ?? context.active();
  return tracer().startActiveSpan(name, { kind: options.kind ?? SpanKind.INTERNAL, attributes: options.attributes }, parent, async (span) => {
    try {
      return await work(span);
    } catch (error) {
      if ((error as Error | undefined)?.name === 'DelayedError') span.setAttribute('kup.job.delayed', true);
      else {
        const { code, message } = describeError(error);
        span.setStatus({ code: SpanStatusCode.ERROR, message: `${code}: ${message}` });
        span.setAttribute('error.type', code);
      }
      throw error;
    } finally {
      span.end();
    }
  });
}

/**
 * A span that the caller ends (a server request spans several hooks); undefined with
 * tracing off. `carrier` (incoming headers) continues the caller's trace.
 */
export function startSpan(name: string, options: SpanOptions & { carrier?: Record<string, unknown> }): Span | undefined {
  if (!enabled) return undefined;
  const parent = options.carrier ? propagation.extract(ROOT_CONTEXT, options.carrier) : (options.parent ?? context.active());
  return tracer().startSpan(name, { kind: options.kind ?? SpanKind.INTERNAL, attributes: options.attributes }, parent);
}

/** Runs `work` with `span` as the active span (as is when there is none). */
export function runInSpan<T>(span: Span | undefined, work: () => T): T {
  return span ? context.with(trace.setSpan(context.active(), span), work) : work();
}

export { SpanKind, SpanStatusCode };
export type { Span };
