import { describe, expect, it } from 'vitest';
import { applyPlayground } from './playground-writer.js';
import { traineeOf, type FleetSettings } from './fleet-context.js';
import { describeTrainee, driftOf, listTrainees } from './trainee-view.js';
import { defaultPlaygroundSettings } from '../domain/trainee-plan.js';
import { FakeCluster, FakeGrafana, FakeIdentity } from '../test-support/fake-ports.js';

const settings: FleetSettings = {
  playground: defaultPlaygroundSettings('https://sso.example.org/realms/p'),
  namespaceDeleteTimeoutMs: 1_000,
  grafanaOrgId: 1,
  grafanaRole: 'Viewer',
  defaultExpiryDays: 365,
};

describe('listTrainees', () => {
  const identity = new FakeIdentity();
  // Keycloak lists users by username: the fake keeps insertion order.
  for (let i = 0; i < 30; i++) {
    const name = `u${String(i).padStart(2, '0')}`;
    identity.add({ username: name, provisioned: i % 3 !== 0, createdAt: Date.UTC(2026, 0, 1 + i), expiresAt: new Date(Date.UTC(2027, 0, 1 + i)).toISOString() });
  }
  identity.add({ username: 'u99-not-ours', managed: false });

  /** Every page, as the API asks for them: the walk a page answers with goes on to the next. */
  const all = async (request: Parameters<typeof listTrainees>[1], from: FakeIdentity = identity) => {
    const names: string[] = [];
    const walks = new Set<string>();
    let offset: number | null = request.offset;
    let walk = request.walk;
    let pages = 0;
    while (offset !== null && pages++ < 50) {
      const page = await listTrainees(from, { ...request, offset, walk });
      expect(page.items.length).toBeLessThanOrEqual(request.limit);
      names.push(...page.items.map((t) => t.username));
      ({ nextOffset: offset, walk } = page);
      walks.add(page.walk);
    }
    return { names, walks: [...walks] };
  };

  // Without a walk (an older API's cursor) Keycloak is asked for managed users; choosing, this realm (30 of 31 managed) is walked.
  for (const walk of [undefined, 'choose'] as const) {
    it(`pages through every managed trainee once, in order, with no unmanaged user (walk: ${walk})`, async () => {
      const { names, walks } = await all({ limit: 7, offset: 0, walk });
      expect(names).toEqual(Array.from({ length: 30 }, (_, i) => `u${String(i).padStart(2, '0')}`));
      expect(walks).toEqual([walk ? 'realm' : 'managed']);
    });

    it(`filters by state, prefix and dates, across pages, without skipping or repeating (walk: ${walk})`, async () => {
      const names = async (request: Parameters<typeof listTrainees>[1]) => (await all({ ...request, walk })).names;
      expect(await names({ limit: 4, offset: 0, state: 'incomplete' })).toEqual(['u00', 'u03', 'u06', 'u09', 'u12', 'u15', 'u18', 'u21', 'u24', 'u27']);
      expect(await names({ limit: 2, offset: 0, prefix: 'u1' })).toEqual(['u10', 'u11', 'u12', 'u13', 'u14', 'u15', 'u16', 'u17', 'u18', 'u19']);
      expect(await names({ limit: 5, offset: 0, createdBefore: '2026-01-04T00:00:00Z' })).toEqual(['u00', 'u01', 'u02']);
      expect(await names({ limit: 5, offset: 0, expiresBefore: '2027-01-03T00:00:00Z', state: 'provisioned' })).toEqual(['u01']);
    });
  }

  it('reads Keycloak a bounded number of pages per answer (a sparse filter returns a short page and a cursor)', async () => {
    const many = new FakeIdentity();
    for (let i = 0; i < 500; i++) many.add({ username: `m${String(i).padStart(3, '0')}` });
    const page = await listTrainees(many, { limit: 1, offset: 0, prefix: 'zzz' });
    expect(page.items).toEqual([]);
    // Ten pages of 20 looked at, then a cursor to go on from.
    expect(many.count('listManaged')).toBe(10);
    expect(page.nextOffset).toBe(200);
    const end = await listTrainees(many, { limit: 1, offset: 400, prefix: 'zzz' });
    expect(end).toEqual({ items: [], nextOffset: null, walk: 'managed' });
  });

  it('walks the realm when the trainees are at least half of it, listing only managed users, and the cursor keeps the walk', async () => {
    const realm = new FakeIdentity();
    for (let i = 0; i < 12; i++) realm.add({ username: `r${String(i).padStart(2, '0')}`, managed: i % 4 !== 1 });
    const { names, walks } = await all({ limit: 2, offset: 0, walk: 'choose' }, realm);
    expect(walks).toEqual(['realm']);
    expect(names).toEqual(['r00', 'r02', 'r03', 'r04', 'r06', 'r07', 'r08', 'r10', 'r11']);
    expect(realm.count('listManaged')).toBe(0);
    // Counted once, on the first page.
    expect(realm.count('countUsers')).toBe(2);
  });

  it('asks Keycloak for the managed users when they are under half the realm, or with no walk named (an older API)', async () => {
    const sparse = new FakeIdentity();
    for (let i = 0; i < 12; i++) sparse.add({ username: `s${String(i).padStart(2, '0')}`, managed: i % 4 === 1 });
    const chosen = await all({ limit: 2, offset: 0, walk: 'choose' }, sparse);
    expect(chosen.walks).toEqual(['managed']);
    expect(chosen.names).toEqual(['s01', 's05', 's09']);
    expect(sparse.count('listUsers')).toBe(0);
    const older = await all({ limit: 2, offset: 0 });
    expect(older.walks).toEqual(['managed']);
    expect(older.names).toHaveLength(30);
  });

  it('counts the trainees under the prefix against the realm\'s users under it', async () => {
    const mixed = new FakeIdentity();
    for (let i = 0; i < 10; i++) mixed.add({ username: `${i < 4 ? 'course-a' : 'course-b'}-${i}`, managed: i === 0 || i > 4 });
    const sparse = await all({ limit: 3, offset: 0, walk: 'choose', prefix: 'course-a' }, mixed);
    expect(sparse).toEqual({ names: ['course-a-0'], walks: ['managed'] });
    const dense = await all({ limit: 3, offset: 0, walk: 'choose', prefix: 'course-b' }, mixed);
    expect(dense).toEqual({ names: ['course-b-5', 'course-b-6', 'course-b-7', 'course-b-8', 'course-b-9'], walks: ['realm'] });
  });

  it('gives each item the summary fields', async () => {
    const page = await listTrainees(identity, { limit: 1, offset: 1 });
    expect(page.items).toEqual([{ username: 'u01', email: null, fullName: null, created: '2026-01-02T00:00:00.000Z', expires: '2027-01-02T00:00:00.000Z', provisioned: true }]);
    expect(page.nextOffset).toBe(2);
    expect(page.walk).toBe('managed');
  });
});

describe('driftOf', () => {
  it('names the paths whose wanted value the actual object does not hold', () => {
    expect(driftOf({ spec: { hard: { pods: '20', cpu: '1' } } }, { spec: { hard: { pods: '99', cpu: '1', extra: 'x' } } })).toEqual(['spec.hard.pods']);
    expect(driftOf({ subjects: [{ name: 'a' }] }, { subjects: [{ name: 'a' }, { name: 'b' }] })).toEqual(['subjects']);
    expect(driftOf({ a: { b: 1 } }, { a: 'flat' })).toEqual(['a']);
    expect(driftOf({ a: 1 }, { a: 1, b: 2 })).toEqual([]);
  });
});

describe('describeTrainee', () => {
  it('compares the namespace and its fittings with the plan, and finds the recorded Grafana account', async () => {
    const identity = new FakeIdentity();
    const cluster = new FakeCluster();
    const grafana = new FakeGrafana();
    const grafanaId = await grafana.createUser({ login: 'ada', email: 'ada@x.io', name: 'ada', password: 'p', orgId: 1 });
    const user = identity.add({ username: 'ada', email: 'ada@x.io', provisioned: true, expiresAt: '2027-01-01T00:00:00Z', grafanaUserId: grafanaId });
    await applyPlayground(cluster, settings, traineeOf(user, undefined, 365));
    const ports = { identity, cluster, grafana };

    const fresh = await describeTrainee(ports, settings, 'ada');
    expect(fresh?.namespace?.drift).toEqual([]);
    expect(fresh?.namespace?.fittings.every((f) => f.state === 'current')).toBe(true);
    expect(fresh?.grafana).toEqual({ recordedId: grafanaId, state: 'ok', account: { id: grafanaId, login: 'ada', email: 'ada@x.io' } });

    const quota = [...cluster.objects.entries()].find(([key]) => key.startsWith('ResourceQuota/'))?.[1] as unknown as { spec: { hard: Record<string, string> } };
    quota.spec.hard.pods = '99';
    cluster.objects.delete([...cluster.objects.keys()].find((key) => key.startsWith('LimitRange/')) as string);
    const ns = cluster.namespaces.get('ada');
    if (ns) ns.annotations['k8s-user-provisioner/expires-at'] = '2020-01-01T00:00:00Z';
    const drifted = await describeTrainee(ports, settings, 'ada');
    expect(drifted?.namespace?.drift).toEqual(['annotations.k8s-user-provisioner/expires-at']);
    expect(drifted?.namespace?.fittings.find((f) => f.kind === 'ResourceQuota')).toEqual({ kind: 'ResourceQuota', name: 'resource-limits', state: 'drifted', drift: ['spec.hard.pods'] });
    expect(drifted?.namespace?.fittings.find((f) => f.kind === 'LimitRange')?.state).toBe('missing');
  });

  it('is undefined for an unmanaged user and for nobody; someone else\'s Grafana login is not shown', async () => {
    const identity = new FakeIdentity();
    const grafana = new FakeGrafana();
    identity.add({ username: 'human', managed: false });
    identity.add({ username: 'bob', provisioned: true, grafanaUserId: 12345 });
    await grafana.createUser({ login: 'bob', email: 'someone@else.io', name: 'bob', password: 'p', orgId: 1 });
    const ports = { identity, cluster: new FakeCluster(), grafana };
    expect(await describeTrainee(ports, settings, 'human')).toBeUndefined();
    expect(await describeTrainee(ports, settings, 'nobody')).toBeUndefined();
    const bob = await describeTrainee(ports, settings, 'bob');
    expect(bob?.grafana).toEqual({ recordedId: 12345, state: 'unrecorded', account: null });
    expect(bob?.namespace).toBeNull();
  });
});
