import { describe, expect, it } from 'vitest';
import { ANNOTATIONS, PURGE_KEEPS, defaultPlaygroundSettings } from '../domain/trainee-plan.js';
import type { ClusterInventory } from '../ports/cluster-gateway.js';
import { FakeCluster, FakeGrafana, FakeIdentity } from '../test-support/fake-ports.js';
import { memoryJobState, type StepContext } from '../provisioning/step-context.js';
import type { ListedUser } from '../queue/fleet-contract.js';
import { traineeOf, type FleetSettings } from './fleet-context.js';
import { applyPlayground } from './playground-writer.js';
import { metricsRegistry } from '../metrics/registry.js';
import { InventoryCache, takeReportedInventory } from './purge-inventory.js';
import { ResetUserService, type ResetState } from './reset-user.service.js';

const NOW = Date.parse('2026-11-25T12:00:00.000Z');
const settings: FleetSettings = {
  playground: defaultPlaygroundSettings('https://issuer.example/realms/playground', { TRAINEE_CLUSTER_ROLE: 'trainee', NETWORK_POLICY_DEFAULT_DENY: true }),
  namespaceDeleteTimeoutMs: 1_000,
  grafanaOrgId: 1,
  grafanaRole: 'Viewer',
  defaultExpiryDays: 365,
};
const silent = { info: () => undefined, warn: () => undefined, debug: () => undefined };
const ctx = (): StepContext<ResetState> => ({ jobKey: 'job-1', password: async () => 'x', state: memoryJobState<ResetState>({}), progress: async () => undefined, log: silent as never });

const emptyInventory = (): ClusterInventory => ({ takenAt: 0, namespaces: new Map(), occupied: new Map(), kept: new Map(), unlisted: [] });

/** Provisioned trainees with their playground and a ConfigMap and a Deployment of their own each. */
async function build(usernames = ['ana', 'bob']) {
  const fakes = { identity: new FakeIdentity(), cluster: new FakeCluster(), grafana: new FakeGrafana() };
  const listed = new Map<string, ListedUser>();
  for (const username of usernames) {
    const user = fakes.identity.add({ username, provisioned: true, email: `${username}@x.io`, createdAt: NOW });
    listed.set(username, { id: user.id, email: `${username}@x.io`, createdAt: NOW });
    await applyPlayground(fakes.cluster, settings, traineeOf(user, undefined, 365));
    fakes.cluster.objects.set(`ConfigMap/${username}/notes`, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'notes', namespace: username } });
    fakes.cluster.objects.set(`Deployment/${username}/web`, { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: username } });
  }
  const inventories = new InventoryCache(() => fakes.cluster.takeInventory(PURGE_KEEPS));
  const service = new ResetUserService(fakes, settings, inventories);
  fakes.cluster.calls.length = 0;
  fakes.identity.calls.length = 0;
  const reset = (username: string, runId = 'run1') => service.reset(username, 'purge', ctx(), { runId, listed: listed.get(username) });
  return { fakes, reset, listed };
}

const kinds = (cluster: FakeCluster, ns: string) =>
  [...cluster.objects.keys()].filter((k) => k.split('/')[1] === ns).map((k) => k.split('/')[0]).sort();
// Two NetworkPolicies by default: the default-deny ingress and the egress deny list.
const FITTINGS = ['LimitRange', 'NetworkPolicy', 'NetworkPolicy', 'ResourceQuota', 'RoleBinding'];

describe('purge reset with the run inventory', () => {
  it('empties only the occupied types, re-applies nothing and asks Keycloak nothing; one inventory per run', async () => {
    const { fakes, reset } = await build();
    expect(await reset('ana')).toEqual({ username: 'ana', reset: true, mode: 'purge' });
    expect(await reset('bob')).toEqual({ username: 'bob', reset: true, mode: 'purge' });
    for (const ns of ['ana', 'bob']) expect(kinds(fakes.cluster, ns)).toEqual(FITTINGS);
    expect(fakes.cluster.calls.filter((c) => c.startsWith('apply:'))).toEqual([]);
    expect(fakes.cluster.count('purgeNamespace')).toBe(0);
    expect(fakes.cluster.count('purgeTypes')).toBe(2);
    expect(fakes.cluster.count('takeInventory')).toBe(1);
    expect(fakes.identity.count('findUser')).toBe(0);
  });

  it('purges an empty playground with no delete at all, and is safe to run twice', async () => {
    const { fakes, reset } = await build(['ana']);
    await reset('ana');
    await reset('ana', 'run2');
    expect(kinds(fakes.cluster, 'ana')).toEqual(FITTINGS);
    const purged: string[][] = [];
    fakes.cluster.purgeTypes = async (_name, types) => (purged.push([...types]), types.length);
    await reset('ana', 'run3');
    expect(purged).toEqual([[]]);
  });

  it('types the inventory could not list are purged everywhere', async () => {
    const { fakes, reset } = await build(['ana']);
    fakes.cluster.unlistable.add('Deployment');
    const purged: string[][] = [];
    fakes.cluster.purgeTypes = async (_name, types) => (purged.push([...types]), types.length);
    await reset('ana');
    expect(purged).toEqual([['ConfigMap', 'Deployment']]);
  });

  it.each([
    ['a fitting deleted', (c: FakeCluster) => void c.objects.delete('LimitRange/ana/default-limits')],
    ['a fitting edited by someone else', (c: FakeCluster) => void c.foreignWrites.add('ResourceQuota/ana/resource-limits')],
    ['a fitting without the spec hash', (c: FakeCluster) => void delete c.objects.get('RoleBinding/ana/ana')!.metadata.annotations![ANNOTATIONS.specHash]],
    ['the namespace lost its expiry annotation', (c: FakeCluster) => void delete c.namespaces.get('ana')!.annotations[ANNOTATIONS.expiresAt]],
  ])('falls back to the full path when %s: fittings re-applied, trainee objects gone', async (_what, tamper) => {
    const { fakes, reset } = await build(['ana']);
    tamper(fakes.cluster);
    await reset('ana');
    expect(kinds(fakes.cluster, 'ana')).toEqual(FITTINGS);
    expect(fakes.identity.count('findUser')).toBe(1);
    expect(fakes.cluster.count('apply:LimitRange')).toBe(1);
    expect(fakes.cluster.count('purgeNamespace')).toBe(1);
    expect(fakes.cluster.foreignWrites.size).toBe(0);
  });

  it('falls back when the settings changed since the fittings were applied', async () => {
    const { fakes, listed } = await build(['ana']);
    const changed = { ...settings, playground: { ...settings.playground, quota: { ...settings.playground.quota, pods: 5 } } };
    const service = new ResetUserService(fakes, changed, new InventoryCache(() => fakes.cluster.takeInventory(PURGE_KEEPS)));
    await service.reset('ana', 'purge', ctx(), { runId: 'r', listed: listed.get('ana') });
    expect(fakes.cluster.count('purgeNamespace')).toBe(1);
    expect((fakes.cluster.objects.get('ResourceQuota/ana/resource-limits')?.spec as { hard: { pods: string } } | undefined)?.hard.pods).toBe('5');
  });

  it('a namespace made after the inventory takes the full path', async () => {
    const { fakes, reset } = await build(['ana', 'carl']);
    fakes.cluster.namespaces.delete('carl');
    await reset('ana');
    await applyPlayground(fakes.cluster, settings, traineeOf(fakes.identity.byName('carl')!, undefined, 365));
    fakes.cluster.objects.set('ConfigMap/carl/notes', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'notes', namespace: 'carl' } });
    await reset('carl');
    expect(fakes.cluster.count('takeInventory')).toBe(1);
    expect(fakes.cluster.count('purgeNamespace')).toBe(1);
    expect(kinds(fakes.cluster, 'carl')).toEqual(FITTINGS);
  });

  it('asks the cluster nothing for a playground that was empty', async () => {
    const { fakes, reset } = await build(['ana']);
    fakes.cluster.objects.delete('ConfigMap/ana/notes');
    fakes.cluster.objects.delete('Deployment/ana/web');
    fakes.cluster.calls.length = 0;
    await reset('ana');
    expect(fakes.cluster.calls).toEqual(['takeInventory', 'purgeTypes']);
  });

  it('never makes a namespace for a user who is gone: a missing namespace goes to the full path, which skips them', async () => {
    const { fakes, reset } = await build(['ana']);
    fakes.cluster.namespaces.delete('ana');
    fakes.identity.users.clear();
    expect(await reset('ana')).toMatchObject({ reset: false, skipped: 'not a provisioned user' });
    expect(fakes.cluster.namespaces.has('ana')).toBe(false);
    expect(fakes.cluster.calls.filter((c) => c.startsWith('apply:'))).toEqual([]);
  });

  it('refuses a namespace the provisioner does not manage, as before', async () => {
    const { fakes, reset } = await build(['ana']);
    fakes.cluster.namespaces.get('ana')!.labels = {};
    await expect(reset('ana')).rejects.toMatchObject({ code: 'NAMESPACE_CONFLICT' });
    expect(kinds(fakes.cluster, 'ana')).toContain('ConfigMap');
  });

  it('a terminating namespace takes the full path (waits, then makes it again)', async () => {
    const { fakes, reset } = await build(['ana']);
    fakes.cluster.terminatingPolls = 3;
    await fakes.cluster.deleteNamespace('ana');
    await reset('ana');
    expect(fakes.cluster.count('waitForNamespaceGone')).toBe(1);
    expect(fakes.cluster.namespaces.get('ana')?.phase).toBe('Active');
  });

  it('without what the listing knew (a single-user run, an older job), the full path runs', async () => {
    const { fakes } = await build(['ana']);
    const service = new ResetUserService(fakes, settings, new InventoryCache(() => fakes.cluster.takeInventory(PURGE_KEEPS)));
    await service.reset('ana', 'purge', ctx(), { runId: 'r' });
    expect(fakes.identity.count('findUser')).toBe(1);
    expect(fakes.cluster.count('takeInventory')).toBe(0);
    expect(fakes.cluster.count('purgeNamespace')).toBe(1);
  });

  it('recreate ignores the inventory', async () => {
    const { fakes, listed } = await build(['ana']);
    const service = new ResetUserService(fakes, settings, new InventoryCache(() => fakes.cluster.takeInventory(PURGE_KEEPS)));
    await service.reset('ana', 'recreate', ctx(), { runId: 'r', listed: listed.get('ana') });
    expect(fakes.cluster.count('takeInventory')).toBe(0);
    expect(fakes.cluster.count('deleteNamespace')).toBe(1);
  });
});

describe('InventoryCache', () => {
  it('shares one in-flight inventory between concurrent children of a run', async () => {
    let taken = 0;
    let release: (value: ClusterInventory) => void = () => undefined;
    const cache = new InventoryCache(() => {
      taken += 1;
      return new Promise<ClusterInventory>((resolve) => (release = resolve));
    });
    const a = cache.get('run1');
    const b = cache.get('run1');
    release(emptyInventory());
    expect(await a).toBe(await b);
    expect(taken).toBe(1);
    const c = cache.get('run2');
    release(emptyInventory());
    await c;
    expect(taken).toBe(2);
  });

  it('drops an inventory after its time, and a failed one at once', async () => {
    let now = 0;
    let taken = 0;
    let fail = true;
    const cache = new InventoryCache(async () => {
      taken += 1;
      if (fail) throw new Error('apiserver down');
      return emptyInventory();
    }, 1_000, () => now);
    await expect(cache.get('run1')).rejects.toThrow('apiserver down');
    fail = false;
    await cache.get('run1');
    await cache.get('run1');
    expect(taken).toBe(2);
    now = 1_000;
    await cache.get('run1');
    expect(taken).toBe(3);
  });

  it('keeps only a few runs', async () => {
    let taken = 0;
    const cache = new InventoryCache(async () => {
      taken += 1;
      return emptyInventory();
    });
    for (const run of ['a', 'b', 'c', 'd', 'e']) await cache.get(run);
    await cache.get('a');
    expect(taken).toBe(6);
  });
});

describe('takeReportedInventory', () => {
  const recorder = () => {
    const lines: { level: 'info' | 'warn'; fields: Record<string, unknown>; msg: string }[] = [];
    const log = {
      info: (fields: Record<string, unknown>, msg: string) => lines.push({ level: 'info', fields, msg }),
      warn: (fields: Record<string, unknown>, msg: string) => lines.push({ level: 'warn', fields, msg }),
    };
    return { lines, log: log as never };
  };
  const gauge = async () => (await metricsRegistry.getSingleMetric('kup_purge_inventory_unlisted_types')?.get())?.values[0]?.value;

  it('warns about, and counts, the types it could not list', async () => {
    const { lines, log } = recorder();
    const inventory = { ...emptyInventory(), unlisted: ['/api/v1/secrets', '/apis/apps/v1/deployments'] };
    await expect(takeReportedInventory(async () => inventory, log)).resolves.toBe(inventory);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 'warn', fields: { unlisted: ['/api/v1/secrets', '/apis/apps/v1/deployments'], namespaces: 0 } });
    expect(await gauge()).toBe(2);
  });

  it('reports a complete inventory at info and puts the gauge back to 0', async () => {
    const { lines, log } = recorder();
    const inventory = { ...emptyInventory(), namespaces: new Map([['ana', { name: 'ana', uid: 'u', phase: 'Active' as const, labels: {}, annotations: {} }]]) };
    await takeReportedInventory(async () => inventory, log);
    expect(lines).toEqual([{ level: 'info', fields: expect.objectContaining({ namespaces: 1, occupiedNamespaces: 0 }), msg: 'purge inventory taken' }]);
    expect(await gauge()).toBe(0);
  });

  it('reports the types read from the quota counts at info: they cost no blind delete', async () => {
    const { lines, log } = recorder();
    const inventory = { ...emptyInventory(), counted: ['/api/v1/configmaps', '/api/v1/secrets'] };
    await takeReportedInventory(async () => inventory, log);
    expect(lines).toEqual([{ level: 'info', fields: expect.objectContaining({ countedTypes: 2 }), msg: 'purge inventory taken' }]);
    expect(await gauge()).toBe(0);
  });

  it('passes a failed inventory on and reports nothing', async () => {
    const { lines, log } = recorder();
    await expect(takeReportedInventory(async () => Promise.reject(new Error('apiserver down')), log)).rejects.toThrow('apiserver down');
    expect(lines).toEqual([]);
  });
});
