// A purge's delete-collections reuse the adapter's kept-alive connections to the stack's
// apiserver: a burst of them opens a handful of connections, not one TLS handshake each.
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HTTP1_CONNECTIONS, KubernetesClusterGateway } from '@kup/adapters';
import { uniqueUsername } from '../helpers/names.js';

describe('purge delete-collections keep their connections', () => {
  const prefix = uniqueUsername('t-pka');
  let cluster: KubernetesClusterGateway;

  beforeAll(() => {
    cluster = new KubernetesClusterGateway({ kubeconfig: process.env.KUBECONFIG ?? '', timeoutMs: 30_000 });
  });

  afterAll(async () => {
    await cluster?.close();
  });

  it('sends 120 delete-collections, 8 at a time, over at most one connection per HTTP/1.1 slot and one HTTP/2', async () => {
    let connects = 0;
    const onConnect = () => {
      connects += 1;
    };
    subscribe('undici:client:beforeConnect', onConnect);
    try {
      // Namespaces that do not exist: an empty collection, nothing to delete, the same requests.
      const names = Array.from({ length: 120 }, (_, i) => `${prefix}-${i}`);
      let next = 0;
      await Promise.all(Array.from({ length: 8 }, async () => {
        while (next < names.length) {
          const name = names[next++] as string;
          expect(await cluster.purgeTypes(name, ['/api/v1/configmaps', '/api/v1/serviceaccounts'])).toBe(2);
        }
      }));
    } finally {
      unsubscribe('undici:client:beforeConnect', onConnect);
    }
    expect(connects).toBeGreaterThan(0);
    expect(connects).toBeLessThanOrEqual(HTTP1_CONNECTIONS + 1);
  });
});
