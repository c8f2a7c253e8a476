// With OTEL_EXPORTER_OTLP_ENDPOINT set, spans leave by OTLP/HTTP to `<endpoint>/v1/traces`,
// with the service's resource attributes. (Its own file: the SDK registers process-wide.)
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inSpan, startTracing, tracesUrl, tracingEnabled } from './index.js';

describe('OTLP export', () => {
  let server: Server;
  let base = '';
  const received: { path: string; type: string; body: Buffer }[] = [];

  beforeAll(async () => {
    server = createServer(async (req, res) => {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      received.push({ path: req.url ?? '', type: String(req.headers['content-type']), body: Buffer.concat(chunks) });
      res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('knows the traces URL from the base or the traces endpoint', () => {
    expect(tracesUrl({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318/' })).toBe('http://c:4318/v1/traces');
    expect(tracesUrl({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://t/x' })).toBe('http://t/x');
    expect(tracesUrl({})).toBeUndefined();
  });

  it('exports spans with service.name and service.version to the collector', async () => {
    const sdk = await startTracing({ serviceName: 'kup-otlp-probe', env: { OTEL_EXPORTER_OTLP_ENDPOINT: base } });
    expect(sdk).toBeDefined();
    expect(tracingEnabled()).toBe(true);
    await inSpan('probe span', {}, async () => 'done');
    await sdk?.shutdown();
    expect(tracingEnabled()).toBe(false);
    expect(received.map((r) => r.path)).toEqual(['/v1/traces']);
    const body = received[0]?.body.toString('latin1') ?? '';
    expect(received[0]?.type).toMatch(/protobuf|json/);
    for (const text of ['probe span', 'service.name', 'kup-otlp-probe', 'service.version', 'service.instance.id']) expect(body).toContain(text);
  });
});
