// Reset against the stack: several trainees at once, recreate and purge, one failure
// isolated and reported, single-user 404-style failure, no overlapping runs.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultJobOptions, resetRunResult, type ObjectRef } from '@kup/core';
import { uniqueUsername } from '../helpers/names.js';
import { eventually } from '../helpers/stack.js';
import { waitForJob } from '../helpers/worker.js';
import { fleetHarness, type FleetHarness } from './fleet-harness.js';

describe('fleet: reset', () => {
  let h: FleetHarness;
  const prefix = uniqueUsername('t-rst');
  const users = [`${prefix}-a`, `${prefix}-b`, `${prefix}-c`];
  const configMap = (namespace: string): ObjectRef => ({ apiVersion: 'v1', kind: 'ConfigMap', name: 'trainee-work', namespace });
  const fittings = (namespace: string): ObjectRef[] => [
    { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', name: namespace, namespace },
    { apiVersion: 'v1', kind: 'ResourceQuota', name: 'resource-limits', namespace },
    { apiVersion: 'v1', kind: 'LimitRange', name: 'default-limits', namespace },
  ];
  const putConfigMaps = async () => {
    for (const u of users) await h.ports.cluster.apply({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'trainee-work', namespace: u }, data: { k: 'v' } });
  };

  beforeAll(async () => {
    h = await fleetHarness();
    for (const u of users) await h.provision(u);
  });

  afterAll(async () => {
    for (const u of [...users, `${prefix}-half`]) await h.remove(u).catch(() => undefined);
    await h?.close();
  });

  it('recreate: every trainee gets a fresh namespace with RBAC, quota and limits back; their ConfigMaps are gone', async () => {
    await putConfigMaps();
    const uids = await Promise.all(users.map(async (u) => (await h.ports.cluster.getNamespace(u))?.uid));
    const { state, job } = await h.run('reset', { usernamePrefix: prefix });
    expect(state, job.failedReason).toBe('completed');
    const result = resetRunResult.parse(job.returnvalue);
    expect(result).toMatchObject({ users_processed: 3, namespaces_reset: 3, failed_resets: [], mode: 'recreate' });
    for (const [i, u] of users.entries()) {
      expect(await h.ports.cluster.get(configMap(u)), u).toBeUndefined();
      const namespace = await h.ports.cluster.getNamespace(u);
      expect(namespace?.phase).toBe('Active');
      expect(namespace?.uid).not.toBe(uids[i]);
      expect(namespace?.labels).toMatchObject({ 'managed-by': 'k8s-provisioner', provisioned: 'true' });
      for (const ref of fittings(u)) expect(await h.ports.cluster.get(ref), `${ref.kind} of ${u}`).toBeDefined();
    }
    // One child per trainee, each with its deterministic id.
    const children = await h.fleetUser.getJobs(['completed']);
    expect(children.map((c) => c.id).sort()).toEqual(users.map((u) => `reset-user-${job.data.runId}-${u}`).sort());
    // Children keep the whole retention of the default job options: the age and the count cap.
    const { removeOnComplete, removeOnFail } = defaultJobOptions(h.config);
    for (const child of children) expect(child.opts, child.id).toMatchObject({ removeOnComplete, removeOnFail });
  });

  it('purge: empties the namespaces in place, keeping their UID and fittings', async () => {
    await putConfigMaps();
    const uids = await Promise.all(users.map(async (u) => (await h.ports.cluster.getNamespace(u))?.uid));
    const { state, job } = await h.run('reset', { usernamePrefix: prefix, mode: 'purge' });
    expect(state, job.failedReason).toBe('completed');
    expect(job.returnvalue).toMatchObject({ namespaces_reset: 3, mode: 'purge' });
    for (const [i, u] of users.entries()) {
      await eventually(`ConfigMap of ${u} gone`, async () => ((await h.ports.cluster.get(configMap(u))) ? undefined : true), 30_000);
      expect((await h.ports.cluster.getNamespace(u))?.uid).toBe(uids[i]);
      for (const ref of fittings(u)) expect(await h.ports.cluster.get(ref), `${ref.kind} of ${u}`).toBeDefined();
    }
  });

  it('one trainee failing does not stop the others, and is reported with its reason', async () => {
    const [broken, ...fine] = users as [string, ...string[]];
    // The namespace loses the provisioner's mark: a reset must refuse to delete it.
    await h.ports.cluster.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: broken, labels: {} } });
    try {
      await putConfigMaps();
      const { state, job } = await h.run('reset', { usernamePrefix: prefix });
      expect(state, job.failedReason).toBe('completed');
      const result = resetRunResult.parse(job.returnvalue);
      expect(result.users_processed).toBe(3);
      expect(result.namespaces_reset).toBe(2);
      expect(result.failed_resets).toEqual([broken]);
      expect(result.failures).toEqual([{ username: broken, code: 'NAMESPACE_CONFLICT', message: expect.stringContaining(broken) }]);
      expect(await h.ports.cluster.get(configMap(broken))).toBeDefined();
      for (const u of fine) expect(await h.ports.cluster.get(configMap(u))).toBeUndefined();
    } finally {
      await h.ports.cluster.apply({
        apiVersion: 'v1',
        kind: 'Namespace',
        metadata: { name: broken, labels: { 'managed-by': 'k8s-provisioner', provisioned: 'true' } },
      });
    }
  });

  it('a single-user reset of someone not provisioned fails as USER_NOT_FOUND and starts no child', async () => {
    const half = `${prefix}-half`;
    const id = await h.provision(half);
    await h.ports.identity.setProvisioned(id, false);
    const { state, job } = await h.run('reset', { username: half });
    expect(state).toBe('failed');
    expect(job.id).toBe(`reset-${half}`);
    expect(job.failedReason).toMatch(/^USER_NOT_FOUND: /);
    expect(job.attemptsMade).toBe(1); // permanent: no retry spent
    const children = await h.fleetUser.getJobs(['completed', 'failed', 'waiting', 'active', 'delayed']);
    expect(children.filter((c) => c.data.username === half)).toEqual([]);
    const nobody = await h.run('reset', { username: `${prefix}-nobody` });
    expect(nobody.job.failedReason).toMatch(/^USER_NOT_FOUND: /);
  });

  it('a reset asked for while one is running does not start a second', async () => {
    const first = await h.enqueue('reset', { usernamePrefix: prefix });
    expect(first.created).toBe(true);
    const second = await h.enqueue('reset', { usernamePrefix: prefix, mode: 'recreate' });
    expect(second.created).toBe(false);
    // Another mode is not answered with this run: it is refused (the API's 409), nothing enqueued.
    await expect(h.enqueue('reset', { usernamePrefix: prefix, mode: 'purge' })).rejects.toMatchObject({ code: 'DIFFERENT_RUN_PENDING', jobId: 'reset' });
    expect(second.job.id).toBe(first.job.id);
    expect(second.job.data.runId).toBe(first.job.data.runId);
    const { state, job } = await waitForJob(h.fleet, 'reset', 150_000);
    expect(state, job.failedReason).toBe('completed');
    expect(job.returnvalue).toMatchObject({ mode: 'recreate', users_processed: 3 });
    const runIds = new Set((await h.fleetUser.getJobs(['completed', 'failed', 'active', 'waiting', 'delayed'])).map((c) => c.data.runId));
    expect(runIds.has(first.job.data.runId)).toBe(true);
    // Afterwards a new one may start: the finished run is replaced.
    const third = await h.enqueue('reset', { usernamePrefix: prefix, mode: 'purge' });
    expect(third.created).toBe(true);
    expect(third.job.data.runId).not.toBe(first.job.data.runId);
    await eventually('third run done', async () => ((await third.job.getState()) === 'completed' || (await h.fleet.getJobState('reset')) === 'completed' ? true : undefined), 150_000);
  });
});
