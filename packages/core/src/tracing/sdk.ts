// The OpenTelemetry SDK, loaded only when tracing is on (startTracing), so a process without
// an OTLP endpoint never loads it (the API keeps its memory).
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { UndiciInstrumentation } from '@opentelemetry/instrumentation-undici';
import { detectResources, envDetector, hostDetector, resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, NodeTracerProvider, type SpanProcessor } from '@opentelemetry/sdk-trace-node';
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from '@opentelemetry/semantic-conventions';
import { setTracingEnabled } from './trace.js';

export interface TracingSdk {
  forceFlush(): Promise<void>;
  /** Exports what is buffered, then stops tracing. */
  shutdown(): Promise<void>;
}

/** The version of the whole service: the repository's package.json (src/ and dist/ sit at the same depth). */
function serviceVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../../../package.json', import.meta.url), 'utf8')) as { version?: string };
    return pkg.version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

export function startSdk(options: { serviceName: string; url?: string; spanProcessors?: SpanProcessor[] }): TracingSdk {
  // OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES (envDetector) override ours.
  const resource = resourceFromAttributes({
    [ATTR_SERVICE_NAME]: options.serviceName,
    [ATTR_SERVICE_VERSION]: serviceVersion(),
    'service.namespace': 'k8s-user-provisioner',
    'service.instance.id': `${hostname()}-${process.pid}`,
  }).merge(detectResources({ detectors: [hostDetector, envDetector] }));
  const provider = new NodeTracerProvider({
    resource,
    // The exporter reads OTEL_EXPORTER_OTLP_HEADERS, _TIMEOUT, _COMPRESSION itself.
    spanProcessors: options.spanProcessors ?? [new BatchSpanProcessor(new OTLPTraceExporter(options.url ? { url: options.url } : {}))],
  });
  // Sets the global provider, the AsyncLocalStorage context manager and W3C propagation.
  provider.register();
  // fetch and undici calls (Keycloak, Grafana; Kubernetes on an undici-based client) as
  // client spans, through undici's diagnostics channels: no module patching. Only inside a
  // request or job span, so background calls do not each start a trace.
  const undici = new UndiciInstrumentation({ requireParentforSpans: true });
  setTracingEnabled(true);
  return {
    forceFlush: () => provider.forceFlush(),
    async shutdown() {
      setTracingEnabled(false);
      undici.disable();
      await provider.shutdown();
    },
  };
}
