// Purge reset against the stack, through the run's cluster inventory: trainee objects of
// several types go, the fittings stay; a namespace whose fittings were tampered with takes
// the full path and is put right; a second run finds every namespace current.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resetRunResult, type KubeObject, type ObjectRef } from '@kup/core';
import { uniqueUsername } from '../helpers/names.js';
import { eventually } from '../helpers/poll.js';
import { kubectlOk } from '../helpers/service-account-kubeconfig.js';
import { fleetHarness, type FleetHarness } from './fleet-harness.js';

describe('fleet: purge reset with the cluster inventory', () => {
  let h: FleetHarness;
  const prefix = uniqueUsername('t-prg');
  const [clean, edited, deleted] = [`${prefix}-a`, `${prefix}-b`, `${prefix}-c`] as [string, string, string];
  const users = [clean, edited, deleted];

  const traineeObjects = (ns: string): KubeObject[] => [
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'notes', namespace: ns }, data: { k: 'v' } },
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'more-notes', namespace: ns }, data: { k: 'v' } },
    { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'token', namespace: ns }, stringData: { a: 'b' } },
    { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'other-token', namespace: ns }, stringData: { a: 'b' } },
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web', namespace: ns },
      spec: {
        replicas: 1,
        selector: { matchLabels: { app: 'web' } },
        template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'nginx:1' }] } },
      },
    },
  ];
  const refOf = (o: KubeObject): ObjectRef => ({ apiVersion: o.apiVersion, kind: o.kind, name: o.metadata.name, namespace: o.metadata.namespace as string });
  const fittings = (ns: string): ObjectRef[] => [
    { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', name: ns, namespace: ns },
    { apiVersion: 'v1', kind: 'ResourceQuota', name: 'resource-limits', namespace: ns },
    { apiVersion: 'v1', kind: 'LimitRange', name: 'default-limits', namespace: ns },
  ];
  const quotaPods = async (ns: string) =>
    ((await h.ports.cluster.get({ apiVersion: 'v1', kind: 'ResourceQuota', name: 'resource-limits', namespace: ns }))?.spec as { hard: { pods: string } } | undefined)?.hard.pods;
  /** Which path each child took, from the worker's log lines of this run. */
  const paths = (from: number) => {
    const lines = h.logs.slice(from);
    const took = (u: string, msg: string) => lines.some((l) => l.includes(msg) && l.includes(`"username":"${u}"`));
    return Object.fromEntries(users.map((u) => [u, took(u, 'namespace purged (inventory)') ? 'inventory' : took(u, '"namespace purged"') ? 'full' : 'none']));
  };

  beforeAll(async () => {
    h = await fleetHarness();
    for (const u of users) await h.provision(u);
  });

  afterAll(async () => {
    for (const u of users) await h.remove(u).catch(() => undefined);
    await h?.close();
  });

  it('removes trainee objects of every type, keeps the fittings, and puts tampered fittings right', async () => {
    const pods = await quotaPods(clean);
    for (const u of users) for (const object of traineeObjects(u)) await h.ports.cluster.apply(object);
    // Someone else edits a fitting (kubectl keeps the spec-hash annotation), and another goes.
    await kubectlOk(['-n', edited, 'patch', 'resourcequota', 'resource-limits', '--type', 'merge', '-p', '{"spec":{"hard":{"pods":"99"}}}'],
      { kubeconfig: process.env.KUBECONFIG ?? '' });
    expect(await quotaPods(edited)).toBe('99');
    expect(await h.ports.cluster.delete({ apiVersion: 'v1', kind: 'LimitRange', name: 'default-limits', namespace: deleted })).toBe(true);
    const uids = await Promise.all(users.map(async (u) => (await h.ports.cluster.getNamespace(u))?.uid));

    const from = h.logs.length;
    const { state, job } = await h.run('reset', { usernamePrefix: prefix, mode: 'purge' });
    expect(state, job.failedReason).toBe('completed');
    expect(resetRunResult.parse(job.returnvalue)).toMatchObject({ users_processed: 3, namespaces_reset: 3, failed_resets: [], mode: 'purge' });
    expect(paths(from)).toEqual({ [clean]: 'inventory', [edited]: 'full', [deleted]: 'full' });

    for (const [i, u] of users.entries()) {
      for (const object of traineeObjects(u)) {
        await eventually(`${object.kind} ${object.metadata.name} of ${u} gone`, async () => ((await h.ports.cluster.get(refOf(object))) ? undefined : true), 30_000);
      }
      expect((await h.ports.cluster.getNamespace(u))?.uid).toBe(uids[i]);
      for (const ref of fittings(u)) expect(await h.ports.cluster.get(ref), `${ref.kind} of ${u}`).toBeDefined();
    }
    expect(await quotaPods(edited)).toBe(pods);
  });

  it('a second run finds every namespace current and is as harmless', async () => {
    await h.ports.cluster.apply(traineeObjects(edited)[0] as KubeObject);
    const from = h.logs.length;
    const { state, job } = await h.run('reset', { usernamePrefix: prefix, mode: 'purge' });
    expect(state, job.failedReason).toBe('completed');
    expect(job.returnvalue).toMatchObject({ users_processed: 3, namespaces_reset: 3, failed_resets: [] });
    expect(paths(from)).toEqual({ [clean]: 'inventory', [edited]: 'inventory', [deleted]: 'inventory' });
    await eventually('ConfigMap gone', async () => ((await h.ports.cluster.get(refOf(traineeObjects(edited)[0] as KubeObject))) ? undefined : true), 30_000);
    for (const u of users) for (const ref of fittings(u)) expect(await h.ports.cluster.get(ref), `${ref.kind} of ${u}`).toBeDefined();
  });
});
