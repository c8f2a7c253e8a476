import type { SpanProcessor } from '@opentelemetry/sdk-trace-node';
import type { TracingSdk } from './sdk.js';

export * from './trace.js';
export type { TracingSdk };

/**
 * Starts tracing when `OTEL_EXPORTER_OTLP_ENDPOINT` (or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`)
 * is set and `OTEL_SDK_DISABLED` is not `true`; otherwise returns undefined having loaded
 * nothing. `spanProcessors` (tests: an in-memory exporter) start it regardless.
 */
export async function startTracing(options: {
  serviceName: string;
  env?: Record<string, string | undefined>;
  spanProcessors?: SpanProcessor[];
}): Promise<TracingSdk | undefined> {
  const env = options.env ?? process.env;
  const url = tracesUrl(env);
  if (!options.spanProcessors && (!url || env.OTEL_SDK_DISABLED === 'true')) return undefined;
  const { startSdk } = await import('./sdk.js');
  return startSdk({ serviceName: options.serviceName, url, spanProcessors: options.spanProcessors });
}

/** Where spans go, as the OTLP/HTTP exporter spec says: the traces URL, else the base URL + `/v1/traces`. */
export function tracesUrl(env: Record<string, string | undefined>): string | undefined {
  if (env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) return env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT;
  return env.OTEL_EXPORTER_OTLP_ENDPOINT ? `${env.OTEL_EXPORTER_OTLP_ENDPOINT.replace(/\/+$/, '')}/v1/traces` : undefined;
}
