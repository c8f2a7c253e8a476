import { describe, expect, it } from 'vitest';
import { ProvisionerError, UpstreamError } from '../errors.js';
import { defaultPlaygroundSettings } from '../domain/trainee-plan.js';
import type { CreateJobData } from '../queue/contract.js';
import { FakeCluster, FakeGrafana, FakeIdentity } from '../test-support/fake-ports.js';
import { CREATE_STEPS, ProvisioningService } from './provisioning.service.js';
import { memoryJobState, type CreateState, type StepContext } from './step-context.js';

const NOW = new Date('2026-03-01T12:00:00.000Z');
const PASSWORD = 'Stored-Pass-123456';
const input: CreateJobData = { username: 'jean-dupont', email: 'Jean.Dupont@x.io', fullName: 'Jean Dupont' };

function build(options: { networkPolicy?: boolean } = {}) {
  const fakes = { identity: new FakeIdentity(), cluster: new FakeCluster(), grafana: new FakeGrafana() };
  const settings = defaultPlaygroundSettings('https://issuer.example/realms/playground', {
    TRAINEE_CLUSTER_ROLE: 'trainee',
    NETWORK_POLICY_DEFAULT_DENY: options.networkPolicy ?? false,
    NETWORK_POLICY_EGRESS_DENY_CIDRS: options.networkPolicy ? ['169.254.169.254/32'] : [],
  });
  const sut = new ProvisioningService({
    ...fakes,
    settings,
    grafanaOrgId: 1,
    grafanaRole: 'Viewer',
    defaultExpiryDays: 30,
    namespaceDeleteTimeoutMs: 1_000,
    now: () => NOW,
  });
  return { sut, fakes };
}

const silent = { info: () => undefined, warn: () => undefined, debug: () => undefined };

/** A job's context: the password is "stored" once, like the SecretStore does. */
function context(state = memoryJobState<CreateState>()) {
  const steps: string[] = [];
  let passwordReads = 0;
  const ctx: StepContext<CreateState> = {
    jobKey: 'create-jean-dupont-1',
    password: async () => {
      passwordReads += 1;
      return PASSWORD;
    },
    state,
    progress: async (step) => void steps.push(step),
    log: silent as never,
  };
  return { ctx, state, steps, passwordReads: () => passwordReads };
}

function expectComplete(fakes: ReturnType<typeof build>['fakes'], username = input.username) {
  const users = [...fakes.identity.users.values()].filter((u) => u.username === username);
  expect(users).toHaveLength(1);
  expect(users[0]).toMatchObject({ provisioned: true, managed: true, password: PASSWORD });
  expect(fakes.cluster.namespaces.get(username)?.labels).toMatchObject({ 'managed-by': 'k8s-provisioner' });
  expect([...fakes.cluster.objects.keys()].sort()).toEqual(
    [`LimitRange/${username}/default-limits`, `ResourceQuota/${username}/resource-limits`, `RoleBinding/${username}/${username}`].sort(),
  );
  const grafanaUsers = [...fakes.grafana.users.values()].filter((u) => u.login === username);
  expect(grafanaUsers).toHaveLength(1);
  expect(grafanaUsers[0]?.password).toBe(PASSWORD);
  expect(grafanaUsers[0]?.roles.get(1)).toBe('Viewer');
}

describe('ProvisioningService.create', () => {
  it('provisions every system, in the documented steps, and writes provisioned last', async () => {
    const { sut, fakes } = build();
    const { ctx, steps, state } = context();
    const result = await sut.create(input, ctx);

    expect(result).toMatchObject({ username: 'jean-dupont', alreadyProvisioned: false, passwordIssued: true, namespace: 'jean-dupont' });
    expect(steps).toEqual([...CREATE_STEPS]);
    expectComplete(fakes);
    // A new trainee costs Keycloak no lookup: the create comes first, the provisioned mark last.
    expect(fakes.identity.calls).toEqual(['createUser', 'setProvisioned']);
    expect(state.value).toMatchObject({ initial: 'absent', owned: { keycloak: true, namespace: true, grafana: true } });
    const binding = fakes.cluster.objects.get('RoleBinding/jean-dupont/jean-dupont') as unknown as { subjects: { name: string }[] };
    expect(binding.subjects[0]?.name).toBe(`https://issuer.example/realms/playground#${result.userId}`);
  });

  it('sets the expiry from the input, or now + the default days, on the user and the namespace', async () => {
    const { sut, fakes } = build();
    await sut.create(input, context().ctx);
    expect(fakes.identity.byName('jean-dupont')?.expiresAt).toBe('2026-03-31T12:00:00.000Z');
    expect(fakes.cluster.namespaces.get('jean-dupont')?.annotations['k8s-user-provisioner/expires-at']).toBe('2026-03-31T12:00:00.000Z');

    const other = build();
    await other.sut.create({ ...input, expiresAt: '2027-01-01T00:00:00Z' }, context().ctx);
    expect(other.fakes.identity.byName('jean-dupont')?.expiresAt).toBe('2027-01-01T00:00:00Z');
  });

  it('uses the login as the Grafana email when the trainee has none', async () => {
    const { sut, fakes } = build();
    await sut.create({ username: 'emilie-durand', fullName: 'Émilie Durand' }, context().ctx);
    expect([...fakes.grafana.users.values()][0]).toMatchObject({ login: 'emilie-durand', email: 'emilie-durand' });
  });

  it('applies the network policies when on, and removes them once switched off', async () => {
    const on = build({ networkPolicy: true });
    await on.sut.create(input, context().ctx);
    expect(on.fakes.cluster.objects.has('NetworkPolicy/jean-dupont/default-deny')).toBe(true);
    expect(on.fakes.cluster.objects.has('NetworkPolicy/jean-dupont/deny-egress-restricted')).toBe(true);
    expect(on.fakes.cluster.count('delete:NetworkPolicy')).toBe(0);
    const off = build();
    await off.sut.create(input, context().ctx);
    expect(off.fakes.cluster.count('delete:NetworkPolicy')).toBe(2);
  });

  // A crash (or retryable failure) at each call of the create; the next attempt, with the
  // state the first one persisted, must finish the same user with the same password.
  const failurePoints: [keyof ReturnType<typeof build>['fakes'], string][] = [
    ['identity', 'createUser'],
    ['cluster', 'getNamespace'],
    ['cluster', 'apply:Namespace'],
    ['cluster', 'apply:RoleBinding'],
    ['cluster', 'apply:ResourceQuota'],
    ['cluster', 'apply:LimitRange'],
    ['cluster', 'delete:NetworkPolicy'],
    ['grafana', 'findUser'],
    ['grafana', 'createUser'],
    ['grafana', 'setOrgRole'],
    ['identity', 'setProvisioned'],
  ];
  it.each(failurePoints)('completes on a re-run after a failure at %s.%s, nothing duplicated', async (port, method) => {
    const { sut, fakes } = build();
    const { ctx, state } = context();
    fakes[port].failOn(method);
    await expect(sut.create(input, ctx)).rejects.toThrow();
    expect(fakes.identity.byName('jean-dupont')?.provisioned ?? false).toBe(false);

    const result = await sut.create(input, ctx);
    expect(result.alreadyProvisioned).toBe(false);
    expectComplete(fakes);
    expect(state.value.initial).toBe('absent');
  });

  it('a create that already finished every step but crashed before completing re-runs as a create, not a no-op', async () => {
    const { sut, fakes } = build();
    const { ctx } = context();
    await sut.create(input, ctx);
    const again = await sut.create(input, ctx);
    expect(again).toMatchObject({ alreadyProvisioned: false, passwordIssued: true });
    expect(fakes.identity.count('createUser')).toBe(1);
    expect(fakes.grafana.count('createUser')).toBe(1);
  });

  it('refuses a username held by another email, touching nothing', async () => {
    const { sut, fakes } = build();
    fakes.identity.add({ username: 'jean-dupont', email: 'someone.else@x.io', provisioned: true });
    const { ctx, state } = context();
    await expect(sut.create(input, ctx)).rejects.toMatchObject({ code: 'USERNAME_CONFLICT', retryable: false });
    // Keycloak refused the create (409); the lookup then shows whose the name is.
    expect(fakes.identity.calls).toEqual(['createUser', 'findUser']);
    expect(state.value.owned?.keycloak).toBe(false);
    // Only the namespace check, made before Keycloak hears of the trainee.
    expect(fakes.cluster.calls).toEqual(['getNamespace']);
    expect(fakes.grafana.calls).toEqual([]);
  });

  it('refuses a human account the provisioner never made, even with the same email', async () => {
    const { sut, fakes } = build();
    fakes.identity.add({ username: 'jean-dupont', email: 'jean.dupont@x.io', managed: false });
    await expect(sut.create(input, context().ctx)).rejects.toMatchObject({ code: 'USERNAME_CONFLICT' });
    expect(fakes.identity.calls).toEqual(['createUser', 'findUser']);
  });

  it('changes nothing and issues no password for a user already provisioned with the same email', async () => {
    const { sut, fakes } = build();
    const existing = fakes.identity.add({ username: 'jean-dupont', email: 'JEAN.DUPONT@x.io', provisioned: true, password: 'theirs' } as never);
    const { ctx, state } = context();
    const result = await sut.create(input, ctx);
    expect(result).toMatchObject({ alreadyProvisioned: true, passwordIssued: false, userId: existing.id });
    expect(fakes.identity.calls).toEqual(['createUser', 'findUser']);
    expect(fakes.identity.byName('jean-dupont')).toMatchObject({ password: 'theirs', provisioned: true });
    expect(state.value).toMatchObject({ initial: 'provisioned', owned: { keycloak: false } });
    expect(fakes.cluster.calls).toEqual(['getNamespace']);
    expect(fakes.grafana.calls).toEqual([]);
  });

  it('finishes a half-made user left by an earlier job, with this job’s password', async () => {
    const { sut, fakes } = build();
    const existing = fakes.identity.add({ username: 'jean-dupont', email: 'jean.dupont@x.io', provisioned: false });
    fakes.grafana.add({ login: 'jean-dupont', email: 'jean.dupont@x.io', password: 'old' });
    const { ctx, state } = context();
    const result = await sut.create(input, ctx);
    expect(result.userId).toBe(existing.id);
    expect(state.value.initial).toBe('partial');
    expect(state.value.owned).toEqual({ keycloak: false, namespace: true });
    expectComplete(fakes);
  });

  /** Keycloak makes the user, but the answer never reaches the job (a timeout, a crash). */
  const loseCreateAnswer = (identity: FakeIdentity) => {
    const create = identity.createUser.bind(identity);
    identity.createUser = async (user) => {
      await create(user);
      throw new UpstreamError('keycloak', 'create user', undefined);
    };
    return () => {
      identity.createUser = create;
    };
  };

  it('a retry after the create\'s answer was lost finds its own user, finishes it, and owns it', async () => {
    const { sut, fakes } = build();
    const { ctx, state } = context();
    const restore = loseCreateAnswer(fakes.identity);
    await expect(sut.create(input, ctx)).rejects.toThrow();
    restore();
    expect(state.value).toMatchObject({ owned: { keycloak: true } });
    expect(state.value.initial).toBeUndefined();

    const result = await sut.create(input, ctx);
    expect(result.alreadyProvisioned).toBe(false);
    expectComplete(fakes);
    expect(fakes.identity.count('createUser')).toBe(1);
    expect(state.value).toMatchObject({ initial: 'absent', owned: { keycloak: true }, userId: result.userId });
  });

  it('a job that finally fails after a lost create answer removes the user it made', async () => {
    const { sut, fakes } = build();
    const { ctx } = context();
    const restore = loseCreateAnswer(fakes.identity);
    await expect(sut.create(input, ctx)).rejects.toThrow();
    restore();
    fakes.grafana.failOn('createUser', new UpstreamError('grafana', 'create user', 400));
    await expect(sut.create(input, ctx)).rejects.toThrow();
    expect(await sut.rollbackCreate(input, ctx)).toEqual({ keycloak: true, namespace: true, grafana: false });
    expect(fakes.identity.users.size).toBe(0);
  });

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
    fakes.identity.failOn('setProvisioned', new ProvisionerError('KEYCLOAK_ERROR', 'permanent'));
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
