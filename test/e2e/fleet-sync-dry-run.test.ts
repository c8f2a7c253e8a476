// Sync's dry run against the stack: a trainee whose quota and Grafana account were deleted
// by hand is reported with both repairs and left exactly as broken; a real sync afterwards
// repairs them. A healthy trainee has nothing to repair. The dry run is a run of its own,
// and lists Keycloak in full once.
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { secretKeyOf, syncRunResult, type ObjectRef } from '@kup/core';
import { uniqueUsername } from '../helpers/names.js';
import { findGrafanaUser, findKeycloakUser } from '../helpers/stack.js';
import { waitForJob } from '../helpers/worker.js';
import { fleetHarness, type FleetHarness } from './fleet-harness.js';

describe('fleet: sync dry run', () => {
  let h: FleetHarness;
  const prefix = uniqueUsername('t-sdr');
  const broken = `${prefix}-broken`;
  const healthy = `${prefix}-ok`;
  const users = [broken, healthy];
  const quota: ObjectRef = { apiVersion: 'v1', kind: 'ResourceQuota', name: 'resource-limits', namespace: broken };

  beforeAll(async () => {
    h = await fleetHarness();
    for (const u of users) await h.provision(u);
  });

  afterAll(async () => {
    for (const u of users) await h.remove(u).catch(() => undefined);
    await h?.close();
  });

  it('reports a deleted quota and Grafana account, changes nothing, and a real sync then repairs them', async () => {
    await h.ports.cluster.delete(quota);
    const grafanaUser = await findGrafanaUser(broken);
    await h.ports.grafana.deleteUser(grafanaUser!.id);
    const keycloakBefore = (await findKeycloakUser(broken))?.attributes;

    const dry = await h.run('sync', { usernamePrefix: prefix, dryRun: true });
    expect(dry.state, dry.job.failedReason).toBe('completed');
    expect(dry.job.id).toBe('sync.dry-run');
    const found = syncRunResult.parse(dry.job.returnvalue);
    expect(found.dry_run).toBe(true);
    expect(found.message).toBe('Dry run: 1 users would be repaired; nothing changed');
    expect(found.results.total_users).toBe(2);
    expect(found.results.fixed_users).toEqual([]);
    expect(found.results.failed_fixes).toEqual([]);
    expect(found.results.would_repair).toEqual([
      {
        username: broken,
        repairs: ['ResourceQuota/resource-limits: missing: it would be applied', expect.stringMatching(/^grafana: account missing: it would be created/)],
      },
    ]);

    // Nothing changed: the quota and the Grafana account are still missing, Keycloak is as it was.
    expect(await h.ports.cluster.get(quota)).toBeUndefined();
    expect(await findGrafanaUser(broken)).toBeUndefined();
    expect((await findKeycloakUser(broken))?.attributes).toEqual(keycloakBefore);
    // No password was sealed for the dry run's children.
    const child = await h.fleetUser.getJob(`sync-user-${dry.job.data.runId}-${broken}`);
    expect(child).toBeDefined();
    expect(await h.secrets.get(secretKeyOf(child!))).toBeUndefined();
    // The child reported from the user as the run listed them (it asked Keycloak nothing).
    const keycloakUser = await findKeycloakUser(broken);
    expect(child!.data.listed).toMatchObject({ id: keycloakUser?.id, managed: true, provisioned: true, grafanaUserId: grafanaUser!.id });

    const real = await h.run('sync', { usernamePrefix: prefix });
    expect(real.state, real.job.failedReason).toBe('completed');
    expect(real.job.id).toBe('sync');
    const repaired = syncRunResult.parse(real.job.returnvalue);
    expect(repaired.dry_run).toBe(false);
    expect(repaired.results.fixed_users.map((f) => f.username)).toEqual([broken]);
    expect(repaired.results.fixed_users[0]).toMatchObject({ fixed_grafana: true });
    expect(await h.ports.cluster.get(quota)).toBeDefined();
    expect(await findGrafanaUser(broken)).toBeDefined();

    // Repaired: a second dry run finds nothing to do for either trainee.
    const after = await h.run('sync', { usernamePrefix: prefix, dryRun: true });
    expect(after.state, after.job.failedReason).toBe('completed');
    const clean = syncRunResult.parse(after.job.returnvalue);
    expect(clean.message).toBe('Dry run: 0 users would be repaired; nothing changed');
    expect(clean.results.would_repair).toEqual([]);
    expect(clean.results.total_users).toBe(2);
  });

  it('a healthy trainee alone: nothing to repair', async () => {
    const { state, job } = await h.run('sync', { username: healthy, dryRun: true });
    expect(state, job.failedReason).toBe('completed');
    expect(job.id).toBe(`sync.dry-run-${healthy}`);
    const result = syncRunResult.parse(job.returnvalue);
    expect(result).toMatchObject({ dry_run: true, message: 'Dry run: 0 users would be repaired; nothing changed' });
    expect(result.results).toMatchObject({ total_users: 1, would_repair: [], failed_fixes: [] });
  });

  it('reads Keycloak once in full: its second pass asks for usernames only, which list as the full listing does', async () => {
    const identity = h.ports.identity;
    const filter = { usernameContains: prefix };
    const full = await identity.listManaged(0, 100, undefined, filter);
    const names = await identity.listManagedNames!(0, 100, undefined, filter);
    expect(names.usernames).toEqual(full.users.map((user) => user.username));
    expect([...names.usernames].sort()).toEqual([...users].sort());

    const calls: string[] = [];
    const listManaged = identity.listManaged.bind(identity);
    const listManagedNames = identity.listManagedNames!.bind(identity);
    Object.assign(identity, {
      listManaged: (...args: Parameters<typeof listManaged>) => (calls.push('full'), listManaged(...args)),
      listManagedNames: (...args: Parameters<typeof listManagedNames>) => (calls.push('usernames'), listManagedNames(...args)),
    });
    try {
      const { state, job } = await h.run('sync', { usernamePrefix: prefix, dryRun: true });
      expect(state, job.failedReason).toBe('completed');
      expect(syncRunResult.parse(job.returnvalue).results.total_users).toBe(2);
      // One page in full (both trainees on it), then the pass that finds nobody new, by username.
      expect(calls).toEqual(['full', 'usernames']);
      // The run's set of usernames seen went with its listing.
      const redis = new Redis(h.config.REDIS_URL);
      expect(await redis.exists(`${h.config.QUEUE_PREFIX}:fleet-run:${job.data.runId}:seen`)).toBe(0);
      redis.disconnect();
    } finally {
      delete (identity as Partial<typeof identity>).listManaged;
      delete (identity as Partial<typeof identity>).listManagedNames;
    }
  });

  it('a dry run and a real sync enqueued together are two runs', async () => {
    const dry = await h.enqueue('sync', { usernamePrefix: prefix, dryRun: true });
    const real = await h.enqueue('sync', { usernamePrefix: prefix });
    expect(real.created).toBe(true);
    expect(real.job.id).toBe('sync');
    expect(dry.job.id).toBe('sync.dry-run');
    expect(real.job.data).not.toHaveProperty('dryRun');
    expect(dry.job.data).toMatchObject({ dryRun: true });
    for (const { job } of [dry, real]) expect((await waitForJob(h.fleet, job.id as string, 150_000)).state).toBe('completed');
  });
});
