import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UndiciWebhookTransport } from './webhook.adapter.js';

describe('UndiciWebhookTransport', () => {
  let server: Server;
  let base = '';
  const hits: string[] = [];
  const transport = new UndiciWebhookTransport({ timeoutMs: 5_000 });

  beforeAll(async () => {
    server = createServer((request, response) => {
      hits.push(`${request.method} ${request.url} ${request.headers['webhook-id'] ?? ''}`);
      if (request.url === '/moved') return void response.writeHead(302, { location: '/elsewhere' }).end();
      if (request.url?.startsWith('/slow')) return; // never answers
      request.resume();
      request.on('end', () => response.writeHead(204).end());
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await transport.close();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('POSTs the headers and answers the status', async () => {
    expect(await transport.post(`${base}/ok`, { 'webhook-id': 'msg_1' }, '{}', 2_000)).toBe(204);
    expect(hits).toContain('POST /ok msg_1');
  });

  it('does not follow a redirect: the configured URL is the only place a delivery goes', async () => {
    expect(await transport.post(`${base}/moved`, {}, '{}', 2_000)).toBe(302);
    expect(hits.some((hit) => hit.includes('/elsewhere'))).toBe(false);
  });

  it('gives up after the timeout, and its errors never quote the URL', async () => {
    const timedOut = (await transport.post(`${base}/slow?token=T0K3N`, {}, '{}', 300).catch((e: Error) => e)) as Error;
    expect(timedOut.message).toBe('no answer within 300 ms');
    const refused = (await transport.post('http://127.0.0.1:1/hook?token=T0K3N', {}, '{}', 2_000).catch((e: Error) => e)) as Error;
    expect(refused.message).toMatch(/^network error \(ECONNREFUSED\)$/);
  });
});
