import { CoreV1Api, KubeConfig, type V1ResourceQuota } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { env, eventually, unique } from './helpers.js';

const isNotFound = (error: unknown): boolean => (error as { code?: number }).code === 404;

describe('stack: kube-apiserver and controller manager', () => {
  const kc = new KubeConfig();
  kc.loadFromFile(env('KUBECONFIG'));
  const core = kc.makeApiClient(CoreV1Api);

  it('fills ResourceQuota status and really deletes a namespace', async () => {
    const namespace = unique('kup-stack-quota');
    await core.createNamespace({ body: { metadata: { name: namespace } } });
    await core.createNamespacedResourceQuota({
      namespace,
      body: { metadata: { name: 'quota' }, spec: { hard: { configmaps: '5', pods: '3', 'requests.cpu': '1' } } },
    });
    await core.createNamespacedConfigMap({ namespace, body: { metadata: { name: 'data' }, data: { a: 'b' } } });

    const quota = await eventually<V1ResourceQuota>('quota status.used', async () => {
      const q = await core.readNamespacedResourceQuota({ name: 'quota', namespace });
      return Number(q.status?.used?.configmaps ?? 0) >= 1 ? q : undefined;
    });
    expect(quota.status?.hard).toMatchObject({ configmaps: '5', pods: '3', 'requests.cpu': '1' });
    expect(quota.status?.used?.pods).toBe('0');

    await core.deleteNamespace({ name: namespace });
    await eventually('namespace gone', async () => {
      try {
        await core.readNamespace({ name: namespace });
        return undefined;
      } catch (error) {
        if (isNotFound(error)) return true;
        throw error;
      }
    }, 60_000);
  });
});
