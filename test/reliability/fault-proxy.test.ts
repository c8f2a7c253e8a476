// The fault proxy itself: transparent at rate 0, and at rate 1 each kind of fault shows
// up as the client would see it.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FaultProxy, type FaultKind } from './fault-proxy.js';
import { eventually } from '../helpers/poll.js';

let upstream: Server;
let hits = 0;

beforeAll(async () => {
  upstream = createServer((req, res) => {
    hits += 1;
    req.resume();
    req.on('end', () => res.end(JSON.stringify({ ok: true, url: req.url })));
  });
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
});
afterAll(async () => {
  upstream.closeAllConnections();
  await new Promise((resolve) => upstream.close(resolve));
});

async function proxy(rate: number, kinds: FaultKind[]): Promise<FaultProxy> {
  return FaultProxy.start({ upstreamHost: '127.0.0.1', upstreamPort: (upstream.address() as AddressInfo).port, rate, kinds, latencyMs: [100, 100] });
}

const get = (port: number, path = '/x') => fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(5_000) });

describe('fault proxy', () => {
  it('is transparent at rate 0', async () => {
    const p = await proxy(0, ['reset']);
    try {
      const res = await get(p.port, '/hello');
      expect(await res.json()).toEqual({ ok: true, url: '/hello' });
      expect(p.stats.reset).toBe(0);
    } finally {
      await p.close();
    }
  });

  it('resets connections', async () => {
    const p = await proxy(1, ['reset']);
    const before = hits;
    try {
      await expect(get(p.port)).rejects.toThrow();
      expect(hits).toBe(before);
      expect(p.stats.reset).toBeGreaterThan(0);
    } finally {
      await p.close();
    }
  });

  it('resets after forwarding: the upstream acted, the client saw an error', async () => {
    const p = await proxy(1, ['reset-after']);
    const before = hits;
    try {
      await expect(get(p.port)).rejects.toThrow();
      await eventually('the upstream was hit', async () => (hits > before ? true : undefined), 5_000, 20);
      expect(hits).toBe(before + 1);
    } finally {
      await p.close();
    }
  });

  it('injects 5xx answers without reaching the upstream', async () => {
    const p = await proxy(1, ['http-5xx']);
    const before = hits;
    try {
      const res = await get(p.port);
      expect([502, 503, 504]).toContain(res.status);
      expect(hits).toBe(before);
    } finally {
      await p.close();
    }
  });

  it('adds latency', async () => {
    const p = await proxy(1, ['latency']);
    try {
      const started = performance.now();
      const res = await get(p.port);
      expect(res.status).toBe(200);
      expect(performance.now() - started).toBeGreaterThanOrEqual(95);
    } finally {
      await p.close();
    }
  });
});
