import { describe, expect, it } from 'vitest';
import { UpstreamError } from '../errors.js';
import { memoryJobState, type StepContext } from '../provisioning/step-context.js';
import { FakeCluster, FakeGrafana, FakeIdentity } from '../test-support/fake-ports.js';
import { CleanupUserService, type CleanupState } from './cleanup-user.service.js';

const DAY = 86_400_000;
const NOW = Date.parse('2026-11-25T12:00:00.000Z');
const silent = { info: () => undefined, warn: () => undefined, debug: () => undefined };
const options = { now: NOW, maxAgeDays: 365, dryRun: false };

/** A young trainee whose expiry passed a day ago: namespace, Keycloak user and Grafana account. */
function build() {
  const fakes = { identity: new FakeIdentity(), cluster: new FakeCluster(), grafana: new FakeGrafana() };
  const user = fakes.identity.add({ username: 'exp', email: 'exp@x.io', provisioned: true, createdAt: NOW - 10 * DAY, expiresAt: new Date(NOW - DAY).toISOString() });
  fakes.cluster.namespaces.set('exp', { name: 'exp', uid: 'exp', phase: 'Active', labels: { 'managed-by': 'k8s-provisioner' }, annotations: {} });
  fakes.grafana.add({ login: 'exp', email: 'exp@x.io' });
  const state = memoryJobState<CleanupState>();
  const ctx: StepContext<CleanupState> = { jobKey: 'job-1', password: async () => 'unused', state, progress: async () => undefined, log: silent as never };
  return { fakes, user, ctx, state, service: new CleanupUserService({ ...fakes, namespaceDeleteTimeoutMs: 1_000 }) };
}

describe('CleanupUserService retries', () => {
  it('a retry before anything was removed decides again: an expiry extended during the backoff keeps the trainee', async () => {
    const { fakes, user, ctx, state, service } = build();
    fakes.cluster.failOn('deleteNamespace', new UpstreamError('kubernetes', 'delete namespace', 503));
    await expect(service.cleanup('exp', options, ctx)).rejects.toMatchObject({ retryable: true });
    expect(state.value).toMatchObject({ reason: 'expired', userId: user.id });
    expect(state.value.removed).toBeUndefined();
    // A trainer's set-expiry, run between the attempts.
    fakes.identity.users.get(user.id)!.expiresAt = new Date(NOW + 30 * DAY).toISOString();

    expect(await service.cleanup('exp', options, ctx)).toMatchObject({ deleted: false, skipped: 'neither old nor expired' });
    expect(fakes.identity.byName('exp')).toBeDefined();
    expect(fakes.cluster.namespaces.get('exp')?.phase).toBe('Active');
    expect(fakes.grafana.users.size).toBe(1);
  });

  it('a retry after something was removed finishes the delete, whatever the expiry says now', async () => {
    const { fakes, user, ctx, service } = build();
    fakes.identity.failOn('deleteUser', new UpstreamError('keycloak', 'delete user', 503));
    await expect(service.cleanup('exp', options, ctx)).rejects.toMatchObject({ retryable: true });
    fakes.identity.users.get(user.id)!.expiresAt = new Date(NOW + 30 * DAY).toISOString();

    expect(await service.cleanup('exp', options, ctx)).toMatchObject({ deleted: true, reason: 'expired' });
    expect(fakes.identity.byName('exp')).toBeUndefined();
  });
});
