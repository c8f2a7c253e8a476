// Deletes reuse the adapter's kept-alive connections to the stack's apiserver: a burst of a
// purge's delete-collections, or one delete after another, opens a handful of connections,
// not one TLS handshake each.
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HTTP1_CONNECTIONS, KubernetesClusterGateway } from '@kup/adapters';
import { uniqueUsername } from '../helpers/names.js';

describe('deletes keep their connections', () => {
  const prefix = uniqueUsername('t-pka');
  let cluster: KubernetesClusterGateway;

  beforeAll(() => {
    cluster = new KubernetesClusterGateway({ kubeconfig: process.env.KUBECONFIG ?? '', timeoutMs: 30_000 });
  });

  afterAll(async () => {
    await cluster?.close();
  });

  /** How many connections `work` opens. */
  async function connectsOf(work: () => Promise<void>): Promise<number> {
    let connects = 0;
    const onConnect = () => {
      connects += 1;
    };
    subscribe('undici:client:beforeConnect', onConnect);
    try {
      await work();
    } finally {
      unsubscribe('undici:client:beforeConnect', onConnect);
    }
    return connects;
  }

  it('sends 120 delete-collections, 8 at a time, over at most one connection per HTTP/1.1 slot and one HTTP/2', async () => {
    const connects = await connectsOf(async () => {
      // Namespaces that do not exist: an empty collection, nothing to delete, the same requests.
      const names = Array.from({ length: 120 }, (_, i) => `${prefix}-${i}`);
      let next = 0;
      await Promise.all(Array.from({ length: 8 }, async () => {
        while (next < names.length) {
          const name = names[next++] as string;
          expect(await cluster.purgeTypes(name, ['/api/v1/configmaps', '/api/v1/serviceaccounts'])).toBe(2);
        }
      }));
    });
    expect(connects).toBeLessThanOrEqual(HTTP1_CONNECTIONS + 1);
  });

  it('deletes namespaces and objects one after another over one connection', async () => {
    const connects = await connectsOf(async () => {
      for (let i = 0; i < 20; i += 1) {
        // Absent: the same DELETE, answered 404.
        expect(await cluster.deleteNamespace(`${prefix}-gone-${i}`)).toBe(false);
        expect(await cluster.delete({ apiVersion: 'v1', kind: 'ConfigMap', name: 'gone', namespace: `${prefix}-gone-${i}` })).toBe(false);
      }
    });
    expect(connects).toBeLessThanOrEqual(1);
  });
});
