// Cleanup against the stack, scoped to this test's trainees (usernamePrefix): dry run
// changes nothing, expires-at in the past is honoured, maxAgeDays 0 removes everything, but
// only when confirmed (CLEANUP_MAX_SHARE_WITHOUT_CONFIRM).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanupRunResult } from '@kup/core';
import { uniqueUsername } from '../helpers/names.js';
import { eventually, findGrafanaUser, findKeycloakUser, getNamespace } from '../helpers/stack.js';
import { fleetHarness, type FleetHarness } from './fleet-harness.js';

describe('fleet: cleanup', () => {
  let h: FleetHarness;
  const prefix = uniqueUsername('t-cln');
  const young = `${prefix}-young`;
  const expiring = `${prefix}-exp`;
  const users = [young, expiring];
  const everywhere = async (u: string) => ({
    keycloak: (await findKeycloakUser(u)) !== undefined,
    namespace: (await getNamespace(u)) !== undefined,
    grafana: (await findGrafanaUser(u)) !== undefined,
  });

  beforeAll(async () => {
    h = await fleetHarness();
    await h.provision(young);
    await h.provision(expiring, new Date(Date.now() + 4_000).toISOString());
  });

  afterAll(async () => {
    for (const u of users) await h.remove(u).catch(() => undefined);
    await h?.close();
  });

  it('dry run lists who would go and changes nothing', async () => {
    const { state, job } = await h.run('cleanup', { maxAgeDays: 0, dryRun: true, usernamePrefix: prefix });
    expect(state, job.failedReason).toBe('completed');
    const result = cleanupRunResult.parse(job.returnvalue);
    expect(result.dry_run).toBe(true);
    expect(result.deleted_users.map((d) => d.username).sort()).toEqual([...users].sort());
    expect(result.successfully_deleted).toBe(0);
    for (const u of users) expect(await everywhere(u)).toEqual({ keycloak: true, namespace: true, grafana: true });
  });

  it('an expires-at in the past is honoured; a young unexpired trainee stays', async () => {
    await eventually('expiry passed', async () => (Date.now() > Date.parse((await h.ports.identity.findUser(expiring))?.expiresAt ?? '') ? true : undefined), 30_000);
    const { state, job } = await h.run('cleanup', { usernamePrefix: prefix });
    expect(state, job.failedReason).toBe('completed');
    const result = cleanupRunResult.parse(job.returnvalue);
    expect(result.deleted_users.map((d) => d.username)).toEqual([expiring]);
    expect(result).toMatchObject({ total_processed: 1, successfully_deleted: 1, failed: 0, dry_run: false });
    expect(await everywhere(expiring)).toEqual({ keycloak: false, namespace: false, grafana: false });
    expect(await everywhere(young)).toEqual({ keycloak: true, namespace: true, grafana: true });
  });

  it('maxAgeDays 0 without confirmMassDelete fails with CONFIRMATION_REQUIRED and deletes nobody', async () => {
    const { state, job } = await h.run('cleanup', { maxAgeDays: 0, usernamePrefix: prefix });
    expect(state).toBe('failed');
    expect(job.failedReason).toMatch(/^CONFIRMATION_REQUIRED: this cleanup would delete 1 of 1 trainees by age.*confirmMassDelete/);
    expect(job.attemptsMade).toBe(1);
    expect(await everywhere(young)).toEqual({ keycloak: true, namespace: true, grafana: true });
  });

  it('maxAgeDays 0 with confirmMassDelete deletes everything of those trainees, and nobody else', async () => {
    const bystander = uniqueUsername('t-clnby');
    await h.provision(bystander);
    try {
      const { state, job } = await h.run('cleanup', { maxAgeDays: 0, usernamePrefix: prefix, confirmMassDelete: true });
      expect(state, job.failedReason).toBe('completed');
      const result = cleanupRunResult.parse(job.returnvalue);
      const userId = (await h.ports.identity.findUser(young))?.id;
      expect(userId).toBeUndefined();
      expect(result.deleted_users.map((d) => d.username)).toEqual([young]);
      expect(result.deleted_users[0]?.user_id).toMatch(/^[0-9a-f-]{36}$/);
      expect(await everywhere(young)).toEqual({ keycloak: false, namespace: false, grafana: false });
      expect(await everywhere(bystander)).toEqual({ keycloak: true, namespace: true, grafana: true });
    } finally {
      await h.remove(bystander);
    }
  });
});
