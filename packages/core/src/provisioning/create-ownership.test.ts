// A create against what existed before it, and its rollback: only what the job made goes.
import { defaultPlaygroundSettings } from '../domain/trainee-plan.js';
import { FakeCluster, FakeGrafana, FakeIdentity } from '../test-support/fake-ports.js';
import { ProvisioningService } from './provisioning.service.js';
import { memoryJobState, type CreateState } from './step-context.js';
import { describe, expect, it } from 'vitest';
import { ProvisionerError, UpstreamError } from '../errors.js';
import { NOW, build, context, input } from '../test-support/create-fixture.js';

describe('ProvisioningService.create: ownership and conflicts', () => {
  it('a retry after a crash between Keycloak\'s refusal and the lookup leaves the user that was there before alone', async () => {
    const { sut, fakes } = build();
    const before = fakes.identity.add({ username: 'jean-dupont', email: 'jean.dupont@x.io', createdAt: NOW.getTime() - 86_400_000 });
    const { ctx, state } = context();
    fakes.identity.failOn('findUser');
    await expect(sut.create(input, ctx)).rejects.toThrow();
    expect(state.value.initial).toBeUndefined();

    fakes.grafana.failOn('createUser', new UpstreamError('grafana', 'create user', 400));
    await expect(sut.create(input, ctx)).rejects.toThrow();
    expect(state.value).toMatchObject({ initial: 'partial', owned: { keycloak: false } });
    expect(await sut.rollbackCreate(input, ctx)).toMatchObject({ keycloak: false });
    expect(fakes.identity.users.get(before.id)).toBeDefined();
  });

  it('never takes a provisioned user for its own, however recent', async () => {
    const { sut, fakes } = build();
    const before = fakes.identity.add({ username: 'jean-dupont', email: 'jean.dupont@x.io', provisioned: true, createdAt: NOW.getTime() + 1_000, password: 'theirs' } as never);
    const { ctx, state } = context();
    fakes.identity.failOn('findUser');
    await expect(sut.create(input, ctx)).rejects.toThrow();

    const result = await sut.create(input, ctx);
    expect(result).toMatchObject({ alreadyProvisioned: true, passwordIssued: false, userId: before.id });
    expect(state.value).toMatchObject({ initial: 'provisioned', owned: { keycloak: false } });
    expect(fakes.identity.byName('jean-dupont')).toMatchObject({ password: 'theirs' });
    expect(await sut.rollbackCreate(input, ctx)).toEqual({ keycloak: false, namespace: false, grafana: false });
  });

  it('a 409 for the email alone (no user of that name) fails the create and owns nothing it did not make', async () => {
    const { sut, fakes } = build();
    const { ctx } = context();
    fakes.identity.failOn('createUser', new UpstreamError('keycloak', 'create user', 409));
    await expect(sut.create(input, ctx)).rejects.toMatchObject({ code: 'KEYCLOAK_ERROR', retryable: false });
    expect(fakes.identity.calls).toEqual(['createUser', 'findUser']);
    expect(await sut.rollbackCreate(input, ctx)).toEqual({ keycloak: false, namespace: false, grafana: false });
  });

  it('refuses a namespace of that name that the provisioner does not manage, before Keycloak hears of it', async () => {
    const { sut, fakes } = build();
    fakes.cluster.namespaces.set('team-infra', { name: 'team-infra', uid: 'u', phase: 'Active', labels: {}, annotations: {} });
    await expect(sut.create({ username: 'team-infra', email: 'team.infra@x.io' }, context().ctx)).rejects.toMatchObject({
      code: 'NAMESPACE_CONFLICT',
    });
    expect(fakes.cluster.count('apply:Namespace')).toBe(0);
    expect(fakes.identity.calls).toEqual([]);
  });

  it.each(['default', 'kube-system', 'kube-node-lease', 'argocd', 'cert-manager', 'monitoring', 'gatekeeper-system'])(
    'refuses the reserved namespace %s before anything is made, existing or not',
    async (name) => {
      const { sut, fakes } = build();
      await expect(sut.create({ username: name, email: `${name}@x.io` }, context().ctx)).rejects.toMatchObject({ code: 'NAMESPACE_RESERVED', retryable: false });
      expect(fakes.identity.calls).toEqual([]);
      expect(fakes.cluster.calls).toEqual([]);
      expect(fakes.grafana.calls).toEqual([]);
    },
  );

  it('refuses a managed namespace recorded for another email, before Keycloak hears of it', async () => {
    const { sut, fakes } = build();
    fakes.cluster.namespaces.set('jean-dupont', {
      name: 'jean-dupont', uid: 'u', phase: 'Active', labels: { 'managed-by': 'k8s-provisioner' }, annotations: { 'k8s-user-provisioner/email': 'jean.dupont@elsewhere.io' },
    });
    await expect(sut.create(input, context().ctx)).rejects.toMatchObject({ code: 'USERNAME_CONFLICT' });
    expect(fakes.identity.calls).toEqual([]);
  });

  it.each(['admin', 'grafana-boss'])('refuses the protected Grafana login %s as a username before anything is made', async (name) => {
    const fakes = { identity: new FakeIdentity(), cluster: new FakeCluster(), grafana: new FakeGrafana() };
    const sut = new ProvisioningService({
      ...fakes,
      settings: defaultPlaygroundSettings('https://issuer.example/realms/playground'),
      grafanaOrgId: 1,
      grafanaRole: 'Viewer',
      defaultExpiryDays: 30,
      namespaceDeleteTimeoutMs: 1_000,
      guards: { reservedNamespaces: [], grafanaDeniedLogins: ['admin', 'grafana-boss'] },
    });
    await expect(sut.create({ username: name, email: `${name}@x.io` }, context().ctx)).rejects.toMatchObject({ code: 'USERNAME_CONFLICT' });
    expect([...fakes.identity.calls, ...fakes.cluster.calls, ...fakes.grafana.calls]).toEqual([]);
  });

  it('refuses a user provisioned with the same email under another full name (two people, one username)', async () => {
    const { sut, fakes } = build();
    fakes.identity.add({ username: 'jean-dupont', email: 'jean.dupont@x.io', fullName: 'Jeanne Dupont', provisioned: true });
    await expect(sut.create(input, context().ctx)).rejects.toMatchObject({ code: 'USERNAME_CONFLICT' });
  });

  it('records the Grafana account it made on the Keycloak user, with provisioned', async () => {
    const { sut, fakes } = build();
    const result = await sut.create(input, context().ctx);
    expect(fakes.identity.byName('jean-dupont')).toMatchObject({ provisioned: true, grafanaUserId: result.grafanaUserId });
  });

  it('never adopts an existing Grafana account with the same login and email: a new trainee gets a conflict', async () => {
    const { sut, fakes } = build();
    const human = fakes.grafana.add({ login: 'jean-dupont', email: 'Jean.Dupont@x.io', password: 'theirs' });
    const { ctx } = context();
    await expect(sut.create(input, ctx)).rejects.toMatchObject({ code: 'USERNAME_CONFLICT', retryable: false });
    expect(fakes.grafana.users.get(human.id)).toMatchObject({ password: 'theirs' });
    expect(fakes.grafana.count('setPassword') + fakes.grafana.count('setOrgRole') + fakes.grafana.count('deleteUser')).toBe(0);
    await sut.rollbackCreate(input, ctx);
    expect(fakes.grafana.users.get(human.id)).toBeDefined();
    expect(fakes.identity.users.size).toBe(0);
  });

  it('never adopts a Grafana server admin, even for a half-made user made before ids were recorded', async () => {
    const { sut, fakes } = build();
    fakes.identity.add({ username: 'jean-dupont', email: 'jean.dupont@x.io', provisioned: false });
    const admin = fakes.grafana.add({ login: 'jean-dupont', email: 'jean.dupont@x.io', password: 'theirs', isGrafanaAdmin: true });
    await expect(sut.create(input, context().ctx)).rejects.toMatchObject({ code: 'USERNAME_CONFLICT' });
    expect(fakes.grafana.users.get(admin.id)).toMatchObject({ password: 'theirs' });
  });

  it('waits for a terminating namespace to go, then creates it afresh', async () => {
    const { sut, fakes } = build();
    fakes.cluster.namespaces.set('jean-dupont', { name: 'jean-dupont', uid: 'old', phase: 'Terminating', labels: { 'managed-by': 'k8s-provisioner' }, annotations: {} });
    fakes.cluster.terminatingPolls = 5;
    const { ctx, state } = context();
    await sut.create(input, ctx);
    expect(fakes.cluster.count('waitForNamespaceGone')).toBe(1);
    expect(fakes.cluster.namespaces.get('jean-dupont')?.uid).not.toBe('old');
    expect(state.value.owned?.namespace).toBe(true);
  });

  it('refuses a Grafana login held by another email as a conflict', async () => {
    const { sut, fakes } = build();
    fakes.grafana.add({ login: 'jean-dupont', email: 'other@x.io' });
    await expect(sut.create(input, context().ctx)).rejects.toMatchObject({ code: 'USERNAME_CONFLICT', retryable: false });
  });

  it('refuses when another Grafana login already uses the email', async () => {
    const { sut, fakes } = build();
    fakes.grafana.add({ login: 'jdupont', email: 'Jean.Dupont@x.io' });
    await expect(sut.create(input, context().ctx)).rejects.toMatchObject({ code: 'EMAIL_CONFLICT' });
  });
});

describe('ProvisioningService.rollbackCreate', () => {
  it('removes everything this job made when it finally fails', async () => {
    const { sut, fakes } = build();
    const { ctx } = context();
    fakes.identity.failOn('setCreatedProvisioned', new ProvisionerError('KEYCLOAK_ERROR', 'permanent'));
    await expect(sut.create(input, ctx)).rejects.toMatchObject({ code: 'KEYCLOAK_ERROR' });

    const removed = await sut.rollbackCreate(input, ctx);
    expect(removed).toEqual({ keycloak: true, namespace: true, grafana: true });
    expect(fakes.identity.users.size).toBe(0);
    expect(fakes.cluster.namespaces.size).toBe(0);
    expect(fakes.grafana.users.size).toBe(0);
  });

  it('leaves what existed before the job (a Grafana login of someone else)', async () => {
    const { sut, fakes } = build();
    const stranger = fakes.grafana.add({ login: 'jean-dupont', email: 'other@x.io' });
    const { ctx } = context();
    await expect(sut.create(input, ctx)).rejects.toMatchObject({ code: 'USERNAME_CONFLICT' });
    await sut.rollbackCreate(input, ctx);
    expect(fakes.grafana.users.get(stranger.id)).toBeDefined();
    expect(fakes.identity.users.size).toBe(0);
    expect(fakes.cluster.namespaces.size).toBe(0);
  });

  it('leaves a half-made user it did not make, and never touches a provisioned one', async () => {
    const { sut, fakes } = build();
    fakes.identity.add({ username: 'jean-dupont', email: 'jean.dupont@x.io' });
    fakes.cluster.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'jean-dupont', labels: { 'managed-by': 'k8s-provisioner' } } });
    const { ctx } = context();
    fakes.grafana.failOn('createUser', new UpstreamError('grafana', 'create user', 400));
    await expect(sut.create(input, ctx)).rejects.toThrow();
    const removed = await sut.rollbackCreate(input, ctx);
    expect(removed).toEqual({ keycloak: false, namespace: false, grafana: false });
    expect(fakes.identity.users.size).toBe(1);
    expect(fakes.cluster.namespaces.size).toBe(1);

    const provisioned = build();
    provisioned.fakes.identity.add({ username: 'jean-dupont', email: 'jean.dupont@x.io', provisioned: true });
    const state = memoryJobState<CreateState>({ initial: 'provisioned', owned: { keycloak: true } });
    expect(await provisioned.sut.rollbackCreate(input, context(state).ctx)).toEqual({ keycloak: false, namespace: false, grafana: false });
    expect(provisioned.fakes.identity.users.size).toBe(1);
  });

  it('does not delete a user someone else made in between, even if the job had marked it owned', async () => {
    const { sut, fakes } = build();
    fakes.identity.add({ username: 'jean-dupont', email: 'jean.dupont@x.io', managed: false });
    const state = memoryJobState<CreateState>({ initial: 'absent', owned: { keycloak: true } });
    expect(await sut.rollbackCreate(input, context(state).ctx)).toMatchObject({ keycloak: false });
    expect(fakes.identity.users.size).toBe(1);
  });
});
