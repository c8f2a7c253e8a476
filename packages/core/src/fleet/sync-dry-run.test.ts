import { describe, expect, it, vi } from 'vitest';
import { FakeCluster, FakeGrafana, FakeIdentity } from '../test-support/fake-ports.js';
import { memoryJobState, type StepContext } from '../provisioning/step-context.js';
import { fleetRunJobId } from '../queue/fleet-contract.js';
import { aggregateSync } from './aggregate.js';
import { fleetRunData } from './enqueue-fleet-run.js';
import { traineeOf, } from './fleet-context.js';
import { applyPlayground } from './playground-writer.js';
import { wouldRollBack } from './sync-dry-run.js';
import { SyncUserService, type SyncState } from './sync-user.service.js';
import { fleetSettings } from '../test-support/fleet-fixture.js';

const settings = fleetSettings;
const silent = { info: () => undefined, warn: () => undefined, debug: () => undefined };
const base = { fixedGrafana: false, fixedNamespace: false, fixedProvisioned: false, rolledBack: false, passwordIssued: false, dryRun: true };

function context(): StepContext<SyncState> {
  return { jobKey: 'job-1', password: async () => 'Fresh-Pass-1234567890', state: memoryJobState<SyncState>(), progress: async () => undefined, log: silent as never };
}

/** A provisioned trainee (namespace, fittings, Grafana account recorded in Keycloak). */
async function build(username = 'ana', provisioned = true) {
  const fakes = { identity: new FakeIdentity(), cluster: new FakeCluster(), grafana: new FakeGrafana() };
  const user = fakes.identity.add({ username, provisioned, email: `${username}@x.io`, createdAt: Date.parse('2026-11-01T00:00:00Z') });
  await applyPlayground(fakes.cluster, settings, traineeOf(user, undefined, 365));
  const account = fakes.grafana.add({ login: username, email: `${username}@x.io` });
  await fakes.identity.setGrafanaUserId(user.id, account.id);
  return { fakes, user, account };
}

/** Everything the fakes hold, to show that a dry run changed none of it. */
const snapshot = (fakes: Awaited<ReturnType<typeof build>>['fakes']) =>
  JSON.stringify([[...fakes.cluster.objects], [...fakes.cluster.namespaces], [...fakes.grafana.users], [...fakes.identity.users]]);

describe('sync dry run (one trainee)', () => {
  it('reports a missing quota and a missing Grafana account, and writes nothing', async () => {
    const { fakes, account } = await build();
    fakes.cluster.objects.delete('ResourceQuota/ana/resource-limits');
    fakes.grafana.users.delete(account.id);
    const before = snapshot(fakes);
    const result = await new SyncUserService(fakes, settings).sync('ana', context(), { dryRun: true });
    expect(result.dryRun).toBe(true);
    expect(result.repairs).toEqual([
      'ResourceQuota/resource-limits: missing: it would be applied',
      expect.stringMatching(/^grafana: account missing: it would be created/),
    ]);
    expect(snapshot(fakes)).toBe(before);
  });

  it('a fleet child given the user as listed reports from it and asks Keycloak nothing', async () => {
    const { fakes, user, account } = await build();
    fakes.cluster.objects.delete('ResourceQuota/ana/resource-limits');
    const findUser = vi.spyOn(fakes.identity, 'findUser');
    const { id, createdAt, email, enabled, managed, provisioned } = user;
    const listed = { id, createdAt, email, enabled, managed, provisioned, grafanaUserId: account.id };
    const result = await new SyncUserService(fakes, settings).sync('ana', context(), { dryRun: true, listed });
    expect(result.repairs).toEqual(['ResourceQuota/resource-limits: missing: it would be applied']);
    expect(findUser).not.toHaveBeenCalled();
    // As listed, not as Keycloak holds it now: a listing without the Grafana id (as before it was recorded) reports it.
    const { grafanaUserId: _recorded, ...unrecorded } = listed;
    const stale = await new SyncUserService(fakes, settings).sync('ana', context(), { dryRun: true, listed: unrecorded });
    expect(stale.repairs).toContain("keycloak: grafanaUserId attribute missing or wrong: the Grafana account's id would be recorded");
  });

  it('a healthy trainee has nothing to repair', async () => {
    const { fakes } = await build();
    const result = await new SyncUserService(fakes, settings).sync('ana', context(), { dryRun: true });
    expect(result).toEqual({ username: 'ana', ...base, repairs: [] });
  });

  it('a half-made user whose Grafana login is someone else\'s would be rolled back, and is not', async () => {
    const { fakes, account } = await build('ana', false);
    fakes.grafana.users.delete(account.id);
    fakes.grafana.add({ login: 'ana', email: 'someone@else.io' });
    const before = snapshot(fakes);
    const result = await new SyncUserService(fakes, settings).sync('ana', context(), { dryRun: true });
    expect(wouldRollBack(result)).toBe(true);
    expect(result.repairs).toHaveLength(1);
    expect(snapshot(fakes)).toBe(before);
  });

  it('a half-made user that can be finished: the missing `provisioned` mark is reported', async () => {
    const { fakes } = await build('ana', false);
    const result = await new SyncUserService(fakes, settings).sync('ana', context(), { dryRun: true });
    expect(result.repairs).toEqual([expect.stringMatching(/^keycloak: `provisioned` mark missing/)]);
    expect(wouldRollBack(result)).toBe(false);
  });
});

describe('aggregateSync, dry run', () => {
  it('lists per user what would be repaired, the users it would fail on, and says nothing changed', () => {
    const result = aggregateSync(
      {
        values: [
          { ...base, username: 'zoe', repairs: ['grafana: account missing'] },
          { ...base, username: 'fine', repairs: [] },
          { ...base, username: 'ana', repairs: ['ResourceQuota/resource-limits: missing'] },
          { ...base, username: 'clash', repairs: [], error: 'USERNAME_CONFLICT: taken' },
          { ...base, username: 'gone', repairs: [], skipped: 'no managed user of that name' },
        ],
        failures: [{ username: 'down', code: 'UPSTREAM_ERROR', message: 'keycloak 503' }],
      },
      (u) => `sync-user-r1-${u}`,
      undefined,
      true,
    );
    expect(result).toEqual({
      message: 'Dry run: 2 users would be repaired; nothing changed',
      summary: 'Dry run: 2 users would be repaired; nothing changed (5 users checked, 2 would fail)',
      results: {
        total_users: 5,
        fixed_users: [],
        failed_fixes: [
          { username: 'clash', error: 'would fail: USERNAME_CONFLICT: taken' },
          { username: 'down', error: 'UPSTREAM_ERROR: keycloak 503' },
        ],
        would_repair: [
          { username: 'ana', repairs: ['ResourceQuota/resource-limits: missing'] },
          { username: 'zoe', repairs: ['grafana: account missing'] },
        ],
      },
      dry_run: true,
    });
  });

  it('a real sync says dry_run: false', () => {
    expect(aggregateSync({ values: [], failures: [] }, (u) => u).dry_run).toBe(false);
  });
});

describe('dry run ids', () => {
  it('a dry run runs under its own id, never the real run\'s, and keeps the flag in its data', () => {
    expect(fleetRunJobId('sync', undefined, undefined, true)).toBe('sync.dry-run');
    expect(fleetRunJobId('sync', 'ana', undefined, true)).toBe('sync.dry-run-ana');
    expect(fleetRunJobId('sync')).toBe('sync');
    // No username makes the real single-user id collide with the dry run's.
    expect(fleetRunJobId('sync', 'dry-run')).not.toBe(fleetRunJobId('sync', undefined, undefined, true));
    expect(fleetRunData('sync', { dryRun: true }, 'api', 0)).toMatchObject({ dryRun: true });
    expect(fleetRunData('sync', {}, 'schedule', 0)).not.toHaveProperty('dryRun');
  });
});
