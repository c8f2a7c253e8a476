// Sync against the stack: a namespace and a Grafana user removed by hand come back (the
// new password, sealed under the child job, works in Grafana), a trainee left without
// `provisioned` is finished, a healthy one is left alone.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { secretKeyOf, syncRunResult, type ObjectRef } from '@kup/core';
import { uniqueUsername } from '../helpers/names.js';
import { grafanaLoginStatus } from '../helpers/oidc.js';
import { findGrafanaUser, findKeycloakUser } from '../helpers/stack.js';
import { fleetHarness, type FleetHarness } from './fleet-harness.js';

describe('fleet: sync', () => {
  let h: FleetHarness;
  const prefix = uniqueUsername('t-syn');
  const drifted = `${prefix}-drift`;
  const half = `${prefix}-half`;
  const healthy = `${prefix}-ok`;
  const users = [drifted, half, healthy];

  beforeAll(async () => {
    h = await fleetHarness();
    for (const u of users) await h.provision(u);
  });

  afterAll(async () => {
    for (const u of users) await h.remove(u).catch(() => undefined);
    await h?.close();
  });

  it('repairs a namespace and a Grafana user removed by hand, and finishes a user without provisioned', async () => {
    await h.ports.cluster.deleteNamespace(drifted);
    await h.ports.cluster.waitForNamespaceGone(drifted, 90_000);
    const grafanaUser = await findGrafanaUser(drifted);
    await h.ports.grafana.deleteUser(grafanaUser!.id);
    const halfId = (await h.ports.identity.findUser(half))!.id;
    await h.ports.identity.setProvisioned(halfId, false);

    const { state, job } = await h.run('sync', { usernamePrefix: prefix });
    expect(state, job.failedReason).toBe('completed');
    const { results } = syncRunResult.parse(job.returnvalue);
    expect(results.total_users).toBe(3);
    expect(results.failed_fixes).toEqual([]);
    const byName = Object.fromEntries(results.fixed_users.map((f) => [f.username, f]));
    expect(Object.keys(byName).sort()).toEqual([drifted, half].sort());
    expect(byName[drifted]).toMatchObject({ fixed_namespace: true, fixed_grafana: true, fixed_provisioned: false });
    expect(byName[half]).toMatchObject({ fixed_namespace: false, fixed_grafana: false, fixed_provisioned: true });

    // The namespace and its fittings are back.
    const namespace = await h.ports.cluster.getNamespace(drifted);
    expect(namespace?.labels).toMatchObject({ 'managed-by': 'k8s-provisioner' });
    const binding: ObjectRef = { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', name: drifted, namespace: drifted };
    expect(await h.ports.cluster.get(binding)).toBeDefined();
    expect(await h.ports.cluster.get({ apiVersion: 'v1', kind: 'ResourceQuota', name: 'resource-limits', namespace: drifted })).toBeDefined();

    // The new password is sealed under the child job named in the result, and opens Grafana.
    const passwordJobId = byName[drifted]?.password_job_id;
    expect(passwordJobId).toBe(`sync-user-${job.data.runId}-${drifted}`);
    const child = await h.fleetUser.getJob(passwordJobId!);
    expect(JSON.stringify(child?.data)).not.toMatch(/password"\s*:/);
    const password = await h.secrets.get(secretKeyOf(child!));
    expect(password).toBeDefined();
    expect(JSON.stringify(child?.returnvalue)).not.toContain(password!);
    expect(await grafanaLoginStatus(drifted, password!)).toBe(200);

    expect((await findKeycloakUser(half))?.attributes).toMatchObject({ provisioned: ['true'] });
    expect(h.logs.join('')).not.toContain(password!);
  });

  it('a single-user sync of someone unknown fails as USER_NOT_FOUND', async () => {
    const { state, job } = await h.run('sync', { username: `${prefix}-nobody` });
    expect(state).toBe('failed');
    expect(job.failedReason).toMatch(/^USER_NOT_FOUND: /);
  });
});
