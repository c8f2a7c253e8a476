// A purge by a worker with the RBAC we ship (k8s/base: deletecollection on trainee
// objects, no list, no get; list on ServiceAccounts alone) against the stack: the
// playground quota's object counts tell it which types a namespace holds, so it sends a
// delete-collection only for those (and for every counted type where the counts cannot be
// trusted), and a trainee who makes objects right before the reset loses them, and may not
// edit the counts. ServiceAccounts are listed: only a trainee's own account costs a delete.
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KubernetesClusterGateway } from '@kup/adapters';
import { applyPlayground, fleetSettings, PURGE_KEEPS, rbacSubjectName, typesToPurge, type ClusterInventory, type FleetSettings, type KubeObject, type Trainee } from '@kup/core';
import { uniqueUsername } from '../helpers/names.js';
import { eventually } from '../helpers/poll.js';
import { kubectl, kubectlOk, workerServiceAccountKubeconfig, type WorkerServiceAccount } from '../helpers/service-account-kubeconfig.js';
import { workerConfig } from '../helpers/stack.js';

const admin = { kubeconfig: process.env.KUBECONFIG ?? '' };

/** Counts the DELETEs the worker's HTTP client sends into a namespace (undici's diagnostics channel). */
function countDeletes(namespace: string): { count: () => number; stop: () => void } {
  let count = 0;
  const onCreate = (message: unknown) => {
    const { request } = message as { request: { method: string; path: string } };
    if (request.method === 'DELETE' && request.path.includes(`/namespaces/${namespace}/`)) count += 1;
  };
  subscribe('undici:request:create', onCreate);
  return { count: () => count, stop: () => unsubscribe('undici:request:create', onCreate) };
}

describe('purge with the shipped worker RBAC: the quota counts', () => {
  const prefix = uniqueUsername('t-pqc');
  let settings: FleetSettings;
  let adminCluster: KubernetesClusterGateway;
  let worker: KubernetesClusterGateway;
  let account: WorkerServiceAccount;
  const made: string[] = [];

  const traineeOf = (username: string): Trainee => ({
    username,
    userId: `00000000-0000-4000-8000-${username.slice(-12).padStart(12, '0')}`,
    email: undefined,
    createdAt: new Date().toISOString(),
    expiresAt: new Date(Date.now() + 86_400_000).toISOString(),
  });
  /** A playground as a create leaves it, its quota synced by the quota controller (counts in status.used). */
  async function playground(suffix: string): Promise<Trainee> {
    const trainee = traineeOf(`${prefix}-${suffix}`);
    made.push(trainee.username);
    await applyPlayground(adminCluster, settings, trainee);
    // Synced, and the cluster's `default` ServiceAccount made (counted: the purge empties that type, sparing it).
    await eventually(`quota of ${trainee.username} synced`, async () => {
      const used = await quotaUsed(trainee.username);
      return (used['count/secrets'] === '0' && used['count/serviceaccounts'] === '1') || undefined;
    }, 60_000);
    return trainee;
  }
  async function quotaUsed(namespace: string): Promise<Record<string, string>> {
    const quota = await adminCluster.get({ apiVersion: 'v1', kind: 'ResourceQuota', name: 'resource-limits', namespace });
    return ((quota?.status as { used?: Record<string, string> } | undefined)?.used) ?? {};
  }
  const objects = (ns: string): KubeObject[] => [
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'notes', namespace: ns }, data: { k: 'v' } },
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'more-notes', namespace: ns }, data: { k: 'v' } },
    { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'token', namespace: ns }, stringData: { a: 'b' } },
    { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'box', namespace: ns }, spec: { containers: [{ name: 'box', image: 'busybox:1', resources: { limits: { cpu: '100m', memory: '64Mi' } } }] } },
  ];
  const typeOf: Record<string, string> = { ConfigMap: '/api/v1/configmaps', Secret: '/api/v1/secrets', Pod: '/api/v1/pods' };
  const left = async (o: KubeObject) => adminCluster.get({ apiVersion: o.apiVersion, kind: o.kind, name: o.metadata.name, namespace: o.metadata.namespace as string });
  /** The purge a fleet child runs on the fast path: the types the inventory names, one delete-collection each. */
  async function purge(ns: string, inventory: ClusterInventory): Promise<{ types: string[]; deletes: number }> {
    const types = typesToPurge(inventory, ns);
    const deletes = countDeletes(ns);
    try {
      expect(await worker.purgeTypes(ns, types)).toBe(types.length);
      return { types, deletes: deletes.count() };
    } finally {
      deletes.stop();
    }
  }

  beforeAll(async () => {
    settings = fleetSettings(workerConfig());
    adminCluster = new KubernetesClusterGateway({ kubeconfig: admin.kubeconfig, timeoutMs: 30_000 });
    account = await workerServiceAccountKubeconfig({ adminKubeconfig: admin.kubeconfig });
    worker = new KubernetesClusterGateway({ kubeconfig: account.kubeconfig, timeoutMs: 30_000 });
  });

  afterAll(async () => {
    for (const ns of made) await adminCluster?.deleteNamespace(ns).catch(() => undefined);
    await worker?.close();
    await adminCluster?.close();
    await account?.cleanup();
  });

  it('empties only the types the counts show occupied, and leaves none of the trainee objects', async () => {
    const t = await playground('a');
    for (const o of objects(t.username)) await adminCluster.apply(o);
    const inventory = await worker.takeInventory(PURGE_KEEPS);
    // The shipped worker may list none of these: the counts stood in for the listing.
    expect(inventory.counted).toEqual(expect.arrayContaining(['/api/v1/configmaps', '/api/v1/secrets', '/api/v1/pods', '/apis/apps/v1/deployments']));
    // Every type the stack serves is counted: none is left to a blind delete in every namespace.
    expect(inventory.unlisted).toEqual([]);

    const { types, deletes } = await purge(t.username, inventory);
    // ServiceAccounts are listed, and the `default` one the cluster makes does not count: no delete for them.
    expect(types).toEqual([...new Set(['/api/v1/configmaps', '/api/v1/pods', '/api/v1/secrets', ...inventory.unlisted])].sort());
    expect(deletes).toBe(types.length);
    expect(deletes).toBeLessThanOrEqual(3 + inventory.unlisted.length);
    for (const o of objects(t.username)) await eventually(`${o.kind} ${o.metadata.name} gone`, async () => ((await left(o)) ? undefined : true));
    for (const kind of ['ResourceQuota', 'LimitRange']) {
      const name = kind === 'ResourceQuota' ? 'resource-limits' : 'default-limits';
      expect(await adminCluster.get({ apiVersion: 'v1', kind, name, namespace: t.username }), kind).toBeDefined();
    }
  });

  it('empties every counted type where the quota has no counts yet (fitted before them), as without counts', async () => {
    const t = await playground('b');
    // A quota as fitted before the count entries existed: no count/* in spec or status.
    const quota = await adminCluster.get({ apiVersion: 'v1', kind: 'ResourceQuota', name: 'resource-limits', namespace: t.username });
    const hard = (quota?.spec as { hard?: Record<string, string> } | undefined)?.hard ?? {};
    await kubectlOk(['-n', t.username, 'patch', 'resourcequota', 'resource-limits', '--type', 'json', '-p', JSON.stringify(
      Object.keys(hard)
        .filter((key) => key.startsWith('count/'))
        .map((key) => ({ op: 'remove', path: `/spec/hard/${key.replace('/', '~1')}` })),
    )], admin);
    await eventually('counts gone from status', async () => (Object.keys(await quotaUsed(t.username)).some((k) => k.startsWith('count/')) ? undefined : true));
    await adminCluster.apply(objects(t.username)[2] as KubeObject);
    const inventory = await worker.takeInventory(PURGE_KEEPS);
    const { types } = await purge(t.username, inventory);
    expect(types).toEqual([...new Set([...(inventory.counted ?? []), ...inventory.unlisted])].sort());
    expect(types.length).toBeGreaterThan(15);
    await eventually('secret gone', async () => ((await left(objects(t.username)[2] as KubeObject)) ? undefined : true));
  });

  it("attack: a trainee's own ServiceAccount is purged right after it is made, the cluster's `default` survives", async () => {
    const t = await playground('d');
    const quiet = await playground('e');
    const as = ['--as', rbacSubjectName(settings.playground, t)];
    const own: KubeObject = { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'keeper', namespace: t.username } };
    await kubectlOk(['-n', t.username, ...as, 'apply', '-f', '-'], { ...admin, input: JSON.stringify(own) });
    const inventory = await worker.takeInventory(PURGE_KEEPS);
    expect(inventory.counted).not.toContain('/api/v1/serviceaccounts');

    const { types } = await purge(t.username, inventory);
    expect(types).toContain('/api/v1/serviceaccounts');
    await eventually('the trainee account gone', async () => ((await left(own)) ? undefined : true));
    const spared: KubeObject = { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'default', namespace: t.username } };
    expect(await left(spared)).toBeDefined();
    // A playground holding only what the cluster makes gets no ServiceAccount delete, at
    // most one of ConfigMaps where the cluster publishes kube-root-ca.crt (counted, and spared).
    const rootCa = (await quotaUsed(quiet.username))['count/configmaps'] !== '0';
    expect((await purge(quiet.username, inventory)).types).toEqual([...new Set([...(rootCa ? ['/api/v1/configmaps'] : []), ...inventory.unlisted])].sort());
  });

  it('attack: a trainee who makes objects right before the reset does not keep them, and cannot edit the counts', async () => {
    const t = await playground('c');
    const as = ['--as', rbacSubjectName(settings.playground, t)];
    // The trainee may not lower or drop the counts the purge trusts.
    const patch = await kubectl(['-n', t.username, ...as, 'patch', 'resourcequota', 'resource-limits', '--type', 'merge', '-p', '{"spec":{"hard":{"count/secrets":"0"}}}'], admin);
    expect(patch.code).not.toBe(0);
    expect(patch.stderr).toMatch(/forbidden/i);
    expect((await kubectl(['-n', t.username, ...as, 'delete', 'resourcequota', 'resource-limits'], admin)).stderr).toMatch(/forbidden/i);

    // Every count is 0 and synced; the trainee creates objects and the reset comes at once,
    // before the quota controller's recount could have seen them: admission counted them.
    for (const o of objects(t.username)) {
      await kubectlOk(['-n', t.username, ...as, 'apply', '-f', '-'], { ...admin, input: JSON.stringify(o) });
    }
    const inventory = await worker.takeInventory(PURGE_KEEPS);
    const { types } = await purge(t.username, inventory);
    for (const kind of ['ConfigMap', 'Secret', 'Pod']) expect(types).toContain(typeOf[kind]);
    for (const o of objects(t.username)) await eventually(`${o.kind} ${o.metadata.name} gone`, async () => ((await left(o)) ? undefined : true));
  });
});
