// The Kubernetes adapter reuses its TLS connections: client-node on its own opens a new one
// (with a full handshake, on both sides) for every request.
import { Agent } from 'node:https';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { KubernetesClusterGateway } from '@kup/core';
import { env } from '../stack/helpers.js';

describe('kubernetes adapter: connections', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('sends sequential requests over one kept-alive connection', async () => {
    const cluster = new KubernetesClusterGateway({ kubeconfig: env('KUBECONFIG'), timeoutMs: 10_000 });
    const connect = vi.spyOn(Agent.prototype, 'createConnection');
    for (let i = 0; i < 10; i += 1) {
      expect((await cluster.getNamespace('default'))?.name).toBe('default');
    }
    expect(connect.mock.calls.length).toBeGreaterThanOrEqual(1);
    expect(connect.mock.calls.length).toBeLessThanOrEqual(2);
  });
});
