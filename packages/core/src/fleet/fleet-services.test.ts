import { describe, expect, it } from 'vitest';
import { PURGE_KEEPS, } from '../domain/trainee-plan.js';
import { UpstreamError } from '../errors.js';
import { FakeCluster, FakeGrafana, FakeIdentity } from '../test-support/fake-ports.js';
import { memoryJobState, type StepContext } from '../provisioning/step-context.js';
import { CleanupUserService, type CleanupState } from './cleanup-user.service.js';
import { applyPlayground } from './playground-writer.js';
import { ResetUserService, type ResetState } from './reset-user.service.js';
import { SyncUserService, type SyncState } from './sync-user.service.js';
import { traineeOf } from './fleet-context.js';
import { fleetSettings } from '../test-support/fleet-fixture.js';

const DAY = 86_400_000;
const NOW = Date.parse('2026-11-25T12:00:00.000Z');

const settings = fleetSettings;

const silent = { info: () => undefined, warn: () => undefined, debug: () => undefined };

function context<S extends object>(initial: S = {} as S, password = 'Fresh-Pass-1234567890') {
  const state = memoryJobState<S>(initial);
  const ctx: StepContext<S> = { jobKey: 'job-1', password: async () => password, state, progress: async () => undefined, log: silent as never };
  return { ctx, state };
}

/** A provisioned trainee with namespace, fittings, a ConfigMap of their own and a Grafana user. */
async function build(username = 'ana', user: Parameters<FakeIdentity['add']>[0] = { username }) {
  const fakes = { identity: new FakeIdentity(), cluster: new FakeCluster(), grafana: new FakeGrafana() };
  const identityUser = fakes.identity.add({ provisioned: true, email: `${username}@x.io`, createdAt: NOW - 10 * DAY, ...user });
  await applyPlayground(fakes.cluster, settings, traineeOf(identityUser, undefined, 365));
  fakes.cluster.objects.set(`ConfigMap/${username}/mine`, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'mine', namespace: username } });
  fakes.grafana.add({ login: username, email: `${username}@x.io` });
  fakes.cluster.calls.length = 0;
  return { fakes, user: identityUser };
}

const kinds = (cluster: FakeCluster, ns: string) =>
  [...cluster.objects.keys()].filter((k) => k.split('/')[1] === ns).map((k) => k.split('/')[0]).sort();

describe('ResetUserService', () => {
  it('recreate: the namespace is made again (new UID), its own objects are gone, the fittings are back', async () => {
    const { fakes } = await build();
    const uid = fakes.cluster.namespaces.get('ana')?.uid;
    const { ctx, state } = context<ResetState>();
    const result = await new ResetUserService(fakes, settings).reset('ana', 'recreate', ctx);
    expect(result).toEqual({ username: 'ana', reset: true, mode: 'recreate' });
    expect(fakes.cluster.namespaces.get('ana')?.uid).not.toBe(uid);
    expect(kinds(fakes.cluster, 'ana')).toEqual(['LimitRange', 'NetworkPolicy', 'NetworkPolicy', 'ResourceQuota', 'RoleBinding']);
    expect(state.value.namespaceGone).toBe(true);
    // Its pods got a bounded grace once the namespace was Terminating, before the wait.
    expect(fakes.cluster.podDeletes).toEqual([{ namespace: 'ana', gracePeriodSeconds: 30 }]);
    expect(fakes.cluster.calls.filter((c) => ['deleteNamespace', 'deletePods', 'waitForNamespaceGone'].includes(c))).toEqual(['deleteNamespace', 'deletePods', 'waitForNamespaceGone']);
  });

  it('recreate: a retry after the namespace was deleted does not delete it again', async () => {
    const { fakes } = await build();
    const { ctx } = context<ResetState>({ namespaceGone: true });
    await new ResetUserService(fakes, settings).reset('ana', 'recreate', ctx);
    expect(fakes.cluster.count('deleteNamespace')).toBe(0);
  });

  it('purge: empties in place keeping the fittings; the UID stays', async () => {
    const { fakes } = await build();
    const uid = fakes.cluster.namespaces.get('ana')?.uid;
    let kept: ReadonlySet<string> | undefined;
    fakes.cluster.purgeNamespace = async (_name: string, keep: ReadonlySet<string>) => {
      kept = keep;
      return 7;
    };
    await new ResetUserService(fakes, settings).reset('ana', 'purge', context<ResetState>().ctx);
    expect(kept).toBe(PURGE_KEEPS);
    expect(fakes.cluster.namespaces.get('ana')?.uid).toBe(uid);
    expect(fakes.cluster.count('deleteNamespace')).toBe(0);
  });

  it('skips a user who is not provisioned (any more) and changes nothing', async () => {
    const { fakes } = await build('bob', { username: 'bob', provisioned: false });
    const result = await new ResetUserService(fakes, settings).reset('bob', 'recreate', context<ResetState>().ctx);
    expect(result.reset).toBe(false);
    expect(result.skipped).toMatch(/not a provisioned user/);
    expect(fakes.cluster.calls).toEqual([]);
  });

  it('refuses a namespace that the provisioner does not manage', async () => {
    const { fakes } = await build();
    fakes.cluster.namespaces.get('ana')!.labels = {};
    await expect(new ResetUserService(fakes, settings).reset('ana', 'recreate', context<ResetState>().ctx)).rejects.toMatchObject({
      code: 'NAMESPACE_CONFLICT',
      retryable: false,
    });
    expect(fakes.cluster.count('deleteNamespace')).toBe(0);
  });
});

describe('CleanupUserService', () => {
  const options = { now: NOW, maxAgeDays: 365, dryRun: false };

  it('deletes an old user everywhere', async () => {
    const { fakes, user } = await build('old', { username: 'old', createdAt: NOW - 400 * DAY });
    const result = await new CleanupUserService({ ...fakes, namespaceDeleteTimeoutMs: 1_000 }).cleanup('old', options, context<CleanupState>().ctx);
    expect(result).toMatchObject({ username: 'old', userId: user.id, deleted: true, reason: 'age' });
    expect(fakes.identity.byName('old')).toBeUndefined();
    expect(fakes.cluster.namespaces.has('old')).toBe(false);
    expect(fakes.grafana.users.size).toBe(0);
  });

  it('deletes a young user whose expires-at has passed', async () => {
    const { fakes } = await build('exp', { username: 'exp', expiresAt: new Date(NOW - DAY).toISOString() });
    const result = await new CleanupUserService({ ...fakes, namespaceDeleteTimeoutMs: 1_000 }).cleanup('exp', options, context<CleanupState>().ctx);
    expect(result).toMatchObject({ deleted: true, reason: 'expired' });
  });

  it('keeps a young user, and a dry run changes nothing', async () => {
    const young = await build('young');
    const kept = await new CleanupUserService({ ...young.fakes, namespaceDeleteTimeoutMs: 1 }).cleanup('young', options, context<CleanupState>().ctx);
    expect(kept).toMatchObject({ deleted: false, skipped: 'neither old nor expired' });

    const old = await build('old', { username: 'old', createdAt: NOW - 400 * DAY });
    const dry = await new CleanupUserService({ ...old.fakes, namespaceDeleteTimeoutMs: 1 }).cleanup(
      'old',
      { ...options, dryRun: true },
      context<CleanupState>().ctx,
    );
    expect(dry).toMatchObject({ deleted: false, dryRun: true, reason: 'age' });
    expect(old.fakes.identity.byName('old')).toBeDefined();
    expect(old.fakes.cluster.count('deleteNamespace')).toBe(0);
  });

  it('a retry after Keycloak already deleted the user still reports it deleted', async () => {
    const { fakes, user } = await build('old', { username: 'old', createdAt: NOW - 400 * DAY });
    const service = new CleanupUserService({ ...fakes, namespaceDeleteTimeoutMs: 1_000 });
    const { ctx } = context<CleanupState>();
    fakes.grafana.failOn('deleteUser', new UpstreamError('grafana', 'delete user', 503));
    await expect(service.cleanup('old', options, ctx)).rejects.toMatchObject({ retryable: true });
    const again = await service.cleanup('old', options, ctx);
    expect(again).toMatchObject({ deleted: true, userId: user.id });
    expect(fakes.grafana.users.size).toBe(0);
  });
});

describe('SyncUserService', () => {
  it('repairs a namespace and a Grafana user removed by hand; the cluster password stays, Grafana gets a new one', async () => {
    const { fakes, user } = await build();
    const clusterPassword = fakes.identity.users.get(user.id)?.password;
    fakes.cluster.namespaces.delete('ana');
    for (const key of [...fakes.cluster.objects.keys()]) fakes.cluster.objects.delete(key);
    fakes.grafana.users.clear();
    const result = await new SyncUserService(fakes, settings).sync('ana', context<SyncState>({}, 'New-Pass-123456789').ctx);
    expect(result).toMatchObject({ fixedNamespace: true, fixedGrafana: true, fixedProvisioned: false, passwordIssued: true, grafanaPasswordReset: true, keycloakPasswordReset: false });
    expect(kinds(fakes.cluster, 'ana')).toEqual(['LimitRange', 'NetworkPolicy', 'NetworkPolicy', 'ResourceQuota', 'RoleBinding']);
    const grafanaUser = [...fakes.grafana.users.values()][0];
    expect(grafanaUser?.password).toBe('New-Pass-123456789');
    expect(grafanaUser?.roles.get(1)).toBe('Viewer');
    expect(fakes.identity.count('setPassword')).toBe(0);
    expect(fakes.identity.users.get(user.id)?.password).toBe(clusterPassword);
  });

  it('recreates a missing Grafana user with the current password while the service still holds it', async () => {
    const { fakes, user } = await build();
    fakes.grafana.users.clear();
    const asked: string[] = [];
    const sync = new SyncUserService(fakes, settings, { currentPassword: async (u) => (asked.push(u.id), 'Current-Pass-123456') });
    const result = await sync.sync('ana', context<SyncState>({}, 'Unused-Pass-123456').ctx);
    expect(asked).toEqual([user.id]);
    expect(result).toMatchObject({ fixedGrafana: true, passwordIssued: false, grafanaPasswordReset: false, keycloakPasswordReset: false });
    expect([...fakes.grafana.users.values()][0]?.password).toBe('Current-Pass-123456');
    expect(fakes.identity.count('setPassword')).toBe(0);
  });

  it('changes the Keycloak password too only when asked (resetPasswords)', async () => {
    const { fakes, user } = await build();
    fakes.grafana.users.clear();
    const sync = new SyncUserService(fakes, settings, { currentPassword: async () => 'Current-Pass-123456' });
    const result = await sync.sync('ana', context<SyncState>({}, 'Both-Pass-123456789').ctx, { resetPasswords: true });
    expect(result).toMatchObject({ fixedGrafana: true, passwordIssued: true, grafanaPasswordReset: true, keycloakPasswordReset: true });
    expect([...fakes.grafana.users.values()][0]?.password).toBe('Both-Pass-123456789');
    expect(fakes.identity.users.get(user.id)?.password).toBe('Both-Pass-123456789');
  });

  it('a retry keeps the choice made before Grafana was called', async () => {
    const { fakes } = await build();
    fakes.grafana.users.clear();
    // The first attempt chose "current", then the sealed password expired before the retry.
    const sync = new SyncUserService(fakes, settings, { currentPassword: async () => undefined });
    const { ctx, state } = context<SyncState>({ grafanaMissing: true, grafanaPassword: 'current' }, 'Retry-Pass-123456789');
    const result = await sync.sync('ana', ctx);
    expect(state.value.grafanaPassword).toBe('new');
    expect(result).toMatchObject({ passwordIssued: true, grafanaPasswordReset: true, keycloakPasswordReset: false });
    expect(fakes.identity.count('setPassword')).toBe(0);
  });

  it('a healthy user: nothing fixed, no password', async () => {
    const { fakes } = await build();
    const result = await new SyncUserService(fakes, settings).sync('ana', context<SyncState>().ctx);
    expect(result).toMatchObject({ fixedNamespace: false, fixedGrafana: false, fixedProvisioned: false, passwordIssued: false });
    expect(fakes.identity.count('setPassword')).toBe(0);
  });

  it('finishes a user left without provisioned', async () => {
    const { fakes, user } = await build('half', { username: 'half', provisioned: false });
    fakes.grafana.users.clear();
    const result = await new SyncUserService(fakes, settings).sync('half', context<SyncState>().ctx);
    expect(result).toMatchObject({ fixedProvisioned: true, fixedGrafana: true, rolledBack: false });
    expect(fakes.identity.users.get(user.id)?.provisioned).toBe(true);
  });

  it('rolls back a half-made user that cannot be finished', async () => {
    const { fakes } = await build('half', { username: 'half', provisioned: false });
    fakes.grafana.users.clear();
    fakes.grafana.add({ login: 'someone-else', email: 'half@x.io' }); // its email is taken in Grafana
    const result = await new SyncUserService(fakes, settings).sync('half', context<SyncState>().ctx);
    expect(result.rolledBack).toBe(true);
    // Checked before Grafana is asked, as a create checks it: the same code either way.
    expect(result.error).toMatch(/^EMAIL_CONFLICT/);
    expect(fakes.grafana.calls).not.toContain('createUser');
    expect(fakes.identity.byName('half')).toBeUndefined();
    expect(fakes.cluster.namespaces.has('half')).toBe(false);
    expect([...fakes.grafana.users.values()].map((u) => u.login)).toEqual(['someone-else']);
  });

  it('leaves a half-made user alone while its create job is pending', async () => {
    const { fakes } = await build('half', { username: 'half', provisioned: false });
    const sync = new SyncUserService(fakes, settings, { createPending: async () => true });
    const result = await sync.sync('half', context<SyncState>().ctx);
    expect(result.skipped).toMatch(/create job/);
    expect(fakes.identity.byName('half')?.provisioned).toBe(false);
  });

  it('a retryable failure is rethrown, never rolled back', async () => {
    const { fakes } = await build('half', { username: 'half', provisioned: false });
    fakes.identity.failOn('setProvisioned');
    await expect(new SyncUserService(fakes, settings).sync('half', context<SyncState>().ctx)).rejects.toMatchObject({ retryable: true });
    expect(fakes.identity.byName('half')).toBeDefined();
  });

  describe('Grafana ownership', () => {
    it('records the id of an account made before ids were recorded (login and email match): the migration', async () => {
      const { fakes, user } = await build();
      const grafanaUser = [...fakes.grafana.users.values()][0]!;
      const result = await new SyncUserService(fakes, settings).sync('ana', context<SyncState>().ctx);
      expect(result).toMatchObject({ fixedGrafana: false, passwordIssued: false });
      expect(fakes.identity.users.get(user.id)?.grafanaUserId).toBe(grafanaUser.id);
      expect(fakes.grafana.count('setPassword') + fakes.grafana.count('setOrgRole')).toBe(0);
    });

    it('refuses a foreign account under the login (another email, or not the recorded id), changing nothing', async () => {
      const { fakes, user } = await build();
      const grafanaUser = [...fakes.grafana.users.values()][0]!;
      grafanaUser.email = 'human@x.io';
      await expect(new SyncUserService(fakes, settings).sync('ana', context<SyncState>().ctx)).rejects.toMatchObject({ code: 'USERNAME_CONFLICT' });

      grafanaUser.email = 'ana@x.io';
      fakes.identity.users.get(user.id)!.grafanaUserId = grafanaUser.id + 7;
      await expect(new SyncUserService(fakes, settings).sync('ana', context<SyncState>().ctx)).rejects.toMatchObject({ code: 'USERNAME_CONFLICT' });
      expect(fakes.grafana.count('setPassword') + fakes.grafana.count('setOrgRole') + fakes.grafana.count('deleteUser')).toBe(0);
      expect(fakes.identity.count('setPassword')).toBe(0);
    });

    it('a half-made user rolled back: a human Grafana account under its login is left alone', async () => {
      const { fakes } = await build('half', { username: 'half', provisioned: false, grafanaUserId: null });
      const human = [...fakes.grafana.users.values()][0]!;
      const result = await new SyncUserService(fakes, settings).sync('half', context<SyncState>().ctx);
      expect(result).toMatchObject({ rolledBack: true });
      expect(result.error).toMatch(/USERNAME_CONFLICT/);
      expect(fakes.identity.byName('half')).toBeUndefined();
      expect(fakes.grafana.users.get(human.id)).toBeDefined();
      expect(fakes.grafana.count('deleteUser') + fakes.grafana.count('setPassword')).toBe(0);
    });

    it('a half-made user named admin: the Grafana admin is never touched, whatever the records say', async () => {
      const { fakes } = await build('admin', { username: 'admin', provisioned: false });
      const admin = [...fakes.grafana.users.values()][0]!;
      fakes.identity.byName('admin')!.grafanaUserId = admin.id;
      const result = await new SyncUserService(fakes, settings).sync('admin', context<SyncState>().ctx);
      expect(result).toMatchObject({ rolledBack: true });
      expect(fakes.grafana.users.get(admin.id)).toBeDefined();
      expect(fakes.grafana.count('deleteUser') + fakes.grafana.count('setPassword') + fakes.grafana.count('setOrgRole')).toBe(0);
    });

    it('does not make a missing namespace under a reserved name', async () => {
      const { fakes } = await build('monitoring', { username: 'monitoring' });
      fakes.cluster.namespaces.delete('monitoring');
      await expect(new SyncUserService(fakes, settings).sync('monitoring', context<SyncState>().ctx)).rejects.toMatchObject({ code: 'NAMESPACE_RESERVED' });
      expect(fakes.cluster.namespaces.has('monitoring')).toBe(false);
    });
  });
});
