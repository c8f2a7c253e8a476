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
  const endpoint = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT || env.OTEL_EXPORTER_OTLP_ENDPOINT;
  if (!options.spanProcessors && (!endpoint || env.OTEL_SDK_DISABLED === 'true')) return undefined;
  const { startSdk } = await import('./sdk.js');
  return startSdk({ serviceName: options.serviceName, spanProcessors: options.spanProcessors });
}
