// A webhook receiver for tests: a node http server on 127.0.0.1 that checks each delivery's
// signature with the Standard Webhooks specification's own library (an implementation
// independent of ours), records it, and answers as told per path (fail the first N, always).
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

export interface Delivery {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  /** The signature checked out against the path's secret (and the timestamp is fresh). */
  verified: boolean;
  /** What the receiver answered. */
  status: number;
  event: { type: string; timestamp: string; data: Record<string, unknown> } | undefined;
}

export interface Endpoint {
  secret: string;
  /** Answer 500 to this many requests first, then 204. */
  failFirst?: number;
  /** Always answer 500. */
  alwaysFail?: boolean;
}

export interface WebhookReceiver {
  url(path: string): string;
  readonly deliveries: Delivery[];
  /** Verified deliveries of one event type (and path). */
  events(type: string, path?: string): Delivery[];
  close(): Promise<void>;
}

export async function startWebhookReceiver(endpoints: Record<string, Endpoint>): Promise<WebhookReceiver> {
  const deliveries: Delivery[] = [];
  const seen = new Map<string, number>();
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const path = request.url ?? '/';
      const body = Buffer.concat(chunks).toString('utf8');
      const endpoint = endpoints[path];
      let verified = false;
      let event: Delivery['event'];
      if (endpoint && request.method === 'POST') {
        try {
          event = new Webhook(endpoint.secret).verify(body, request.headers as Record<string, string>) as Delivery['event'];
          verified = true;
        } catch {
          verified = false;
        }
      }
      const count = (seen.get(path) ?? 0) + 1;
      seen.set(path, count);
      const status = !endpoint || !verified ? 401 : endpoint.alwaysFail || count <= (endpoint.failFirst ?? 0) ? 500 : 204;
      deliveries.push({ path, headers: request.headers, body, verified, status, event });
      response.writeHead(status).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: (path) => `http://127.0.0.1:${port}${path}`,
    deliveries,
    events: (type, path) => deliveries.filter((d) => d.verified && d.event?.type === type && (path === undefined || d.path === path)),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
