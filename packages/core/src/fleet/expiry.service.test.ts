import { describe, expect, it } from 'vitest';
import { ExpiryService } from './expiry.service.js';
import { applyPlayground } from './playground-writer.js';
import { traineeOf, type FleetSettings } from './fleet-context.js';
import { ANNOTATIONS, defaultPlaygroundSettings } from '../domain/trainee-plan.js';
import { FakeCluster, FakeIdentity } from '../test-support/fake-ports.js';

const settings: FleetSettings = {
  playground: defaultPlaygroundSettings('https://sso.example.org/realms/p'),
  namespaceDeleteTimeoutMs: 1_000,
  grafanaOrgId: 1,
  grafanaRole: 'Viewer',
  defaultExpiryDays: 365,
};
const NOW = Date.parse('2026-11-26T12:00:00Z');

function setup() {
  const identity = new FakeIdentity();
  const cluster = new FakeCluster();
  const scheduled: Array<[string, string]> = [];
  const service = new ExpiryService({ identity, cluster }, settings, { schedule: async (u, at) => void scheduled.push([u, at]) }, () => NOW);
  return { identity, cluster, scheduled, service };
}

describe('ExpiryService.verdict: Keycloak\'s expiry, read when the job runs, decides', () => {
  it('deletes past the expiry, waits before it, skips what is not a managed trainee with a date', async () => {
    const { identity, service } = setup();
    identity.add({ username: 'past', expiresAt: '2026-11-26T11:59:59Z' });
    identity.add({ username: 'ahead', expiresAt: '2026-12-01T00:00:00Z' });
    identity.add({ username: 'human', managed: false, expiresAt: '2000-01-01T00:00:00Z' });
    identity.add({ username: 'forever' });
    identity.add({ username: 'garbled', expiresAt: 'soon' });
    expect(await service.verdict('past')).toEqual({ action: 'delete', expiresAt: '2026-11-26T11:59:59Z' });
    expect(await service.verdict('ahead')).toEqual({ action: 'wait', dueAt: Date.parse('2026-12-01T00:00:00Z'), expiresAt: '2026-12-01T00:00:00Z' });
    for (const name of ['human', 'nobody', 'forever', 'garbled']) expect((await service.verdict(name)).action, name).toBe('skip');
  });
});

describe('ExpiryService.setExpiry', () => {
  it('writes Keycloak, the namespace (every other field kept) and moves the job', async () => {
    const { identity, cluster, scheduled, service } = setup();
    const user = identity.add({ username: 'ada', email: 'ada@x.io', expiresAt: '2026-12-01T00:00:00Z', provisioned: true });
    await applyPlayground(cluster, settings, { ...traineeOf(user, undefined, 365), createdAt: '2026-11-01T08:00:00.000Z' });
    const before = cluster.namespaces.get('ada');

    const result = await service.setExpiry({ username: 'ada', expiresAt: '2027-01-31T19:00:00+01:00' });
    expect(result).toEqual({ username: 'ada', expiresAt: '2027-01-31T18:00:00.000Z', previous: '2026-12-01T00:00:00Z', namespaceUpdated: true });
    expect(identity.byName('ada')?.expiresAt).toBe('2027-01-31T18:00:00.000Z');
    const after = cluster.namespaces.get('ada');
    expect(after?.annotations).toEqual({ ...before?.annotations, [ANNOTATIONS.expiresAt]: '2027-01-31T18:00:00.000Z' });
    expect(after?.labels).toEqual(before?.labels);
    expect(scheduled).toEqual([['ada', '2027-01-31T18:00:00.000Z']]);
  });

  it('refuses an unmanaged user or nobody (USER_NOT_FOUND) and writes nothing', async () => {
    const { identity, scheduled, service } = setup();
    identity.add({ username: 'human', managed: false });
    for (const name of ['human', 'nobody']) {
      await expect(service.setExpiry({ username: name, expiresAt: '2030-01-01T00:00:00Z' })).rejects.toMatchObject({ code: 'USER_NOT_FOUND' });
    }
    expect(identity.count('setExpiresAt')).toBe(0);
    expect(scheduled).toEqual([]);
  });

  it('without a namespace: Keycloak and the job only', async () => {
    const { identity, cluster, service } = setup();
    identity.add({ username: 'bob' });
    expect((await service.setExpiry({ username: 'bob', expiresAt: '2020-01-01T00:00:00Z' })).namespaceUpdated).toBe(false);
    expect(cluster.count('apply:Namespace')).toBe(0);
  });
});
