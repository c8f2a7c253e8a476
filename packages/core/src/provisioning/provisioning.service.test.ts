
import { FakeIdentity } from '../test-support/fake-ports.js';
import { describe, expect, it } from 'vitest';
import { UpstreamError } from '../errors.js';
import { CREATE_STEPS } from './provisioning.service.js';
import { build, context, expectComplete, input } from '../test-support/create-fixture.js';

describe('ProvisioningService.create', () => {
  it('provisions every system, in the documented steps, and writes provisioned last', async () => {
    const { sut, fakes } = build();
    const { ctx, steps, state } = context();
    const result = await sut.create(input, ctx);

    expect(result).toMatchObject({ username: 'jean-dupont', alreadyProvisioned: false, passwordIssued: true, namespace: 'jean-dupont' });
    expect(steps).toEqual([...CREATE_STEPS]);
    expectComplete(fakes);
    // A new trainee costs Keycloak no lookup: the create comes first, the provisioned mark
    // last, as one write of the user it created (no read).
    expect(fakes.identity.calls).toEqual(['createUser', 'setCreatedProvisioned']);
    // Nor Grafana: the account is made without a lookup, since Grafana refuses a taken login or email.
    expect(fakes.grafana.calls).toEqual(['createUser', 'setOrgRole']);
    expect(state.value).toMatchObject({ initial: 'absent', owned: { keycloak: true, namespace: true, grafana: true } });
    const binding = fakes.cluster.objects.get('RoleBinding/jean-dupont/jean-dupont') as unknown as { subjects: { name: string }[] };
    expect(binding.subjects[0]?.name).toBe(`https://issuer.example/realms/playground#${result.userId}`);
  });

  it('binds the trainee last: no right in the namespace before its quota, limits and network policies exist', async () => {
    const { sut, fakes } = build({ networkPolicy: true });
    await sut.create(input, context().ctx);
    const applies = fakes.cluster.calls.filter((call) => call.startsWith('apply:'));
    const binding = applies.indexOf('apply:RoleBinding');
    expect(applies.slice(0, binding)).toEqual(expect.arrayContaining(['apply:ResourceQuota', 'apply:LimitRange', 'apply:NetworkPolicy']));
    expect(applies.slice(binding + 1)).not.toEqual(expect.arrayContaining(['apply:ResourceQuota']));
    expect(applies.slice(binding + 1)).not.toEqual(expect.arrayContaining(['apply:LimitRange']));
    expect(applies.slice(binding + 1)).not.toEqual(expect.arrayContaining(['apply:NetworkPolicy']));
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
    ['grafana', 'createUser'],
    ['grafana', 'setOrgRole'],
    ['identity', 'setCreatedProvisioned'],
  ];
  it.each(failurePoints)('completes on a re-run after a failure at %s.%s, nothing duplicated', async (port, method) => {
    const { sut, fakes } = build();
    const { ctx, state } = context();
    fakes[port].failOn(method);
    await expect(sut.create(input, ctx)).rejects.toThrow();
    expect(fakes.identity.byName('jean-dupont')?.provisioned ?? false).toBe(false);
    const madeBefore = fakes.identity.byName('jean-dupont') !== undefined;

    const result = await sut.create(input, ctx);
    expect(result.alreadyProvisioned).toBe(false);
    expectComplete(fakes);
    expect(state.value.initial).toBe('absent');
    // A user the first attempt made is read before it is marked (setProvisioned); one the
    // re-run made itself is written back whole, without a read.
    const mark = madeBefore ? 'setProvisioned' : 'setCreatedProvisioned';
    expect(fakes.identity.calls.at(-1)).toBe(mark);
  });

  it('a re-run marks the user as Keycloak holds it, not as the job would have made it', async () => {
    const { sut, fakes } = build();
    const { ctx } = context();
    fakes.grafana.failOn('createUser');
    await expect(sut.create(input, ctx)).rejects.toThrow();
    // Changed in between (an operator's expiry): the re-run's mark keeps it.
    const user = fakes.identity.byName('jean-dupont');
    if (!user) throw new Error('no user after the first attempt');
    user.expiresAt = '2030-01-01T00:00:00.000Z';
    await sut.create(input, ctx);
    expect(fakes.identity.byName('jean-dupont')).toMatchObject({ provisioned: true, expiresAt: '2030-01-01T00:00:00.000Z' });
    expect(fakes.identity.count('setCreatedProvisioned')).toBe(0);
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
    // Grafana refused the login (412): the mark is taken back, and the account found is judged and taken.
    expect(state.value.owned).toEqual({ keycloak: false, namespace: true, grafana: false });
    expect(fakes.grafana.calls).toEqual(['createUser', 'findUser', 'setPassword', 'setOrgRole']);
    expectComplete(fakes);
  });

  it('a half-made user left by an earlier job gets this job\'s expiry and quota profile in Keycloak, as the namespace does', async () => {
    const { sut, fakes } = build();
    const existing = fakes.identity.add({ username: 'jean-dupont', email: 'jean.dupont@x.io', expiresAt: '2026-03-02T00:00:00.000Z', profile: 'large' });
    await sut.create({ ...input, expiresAt: '2027-01-01T00:00:00.000Z', profile: 'small' }, context().ctx);
    expect(fakes.identity.users.get(existing.id)).toMatchObject({ provisioned: true, expiresAt: '2027-01-01T00:00:00.000Z', profile: 'small' });
    expect(fakes.cluster.namespaces.get('jean-dupont')?.annotations['k8s-user-provisioner/expires-at']).toBe('2027-01-01T00:00:00.000Z');

    // No profile asked: the default, as on the namespace.
    const other = build();
    const earlier = other.fakes.identity.add({ username: 'jean-dupont', email: 'jean.dupont@x.io', expiresAt: '2026-03-02T00:00:00.000Z', profile: 'large' });
    await other.sut.create(input, context().ctx);
    expect(other.fakes.identity.users.get(earlier.id)).toMatchObject({ expiresAt: '2026-03-31T12:00:00.000Z', profile: 'medium' });
    expect(other.fakes.cluster.namespaces.get('jean-dupont')?.labels['k8s-user-provisioner/profile']).toBe('medium');
  });

  it('takes a half-made user over once: an expiry set between its attempts stays', async () => {
    const { sut, fakes } = build();
    const existing = fakes.identity.add({ username: 'jean-dupont', email: 'jean.dupont@x.io', expiresAt: '2026-03-02T00:00:00.000Z' });
    const { ctx } = context();
    fakes.cluster.failOn('apply:Namespace');
    await expect(sut.create({ ...input, expiresAt: '2027-01-01T00:00:00.000Z' }, ctx)).rejects.toThrow();
    expect(fakes.identity.users.get(existing.id)?.expiresAt).toBe('2027-01-01T00:00:00.000Z');
    fakes.identity.users.get(existing.id)!.expiresAt = '2030-01-01T00:00:00.000Z';
    await sut.create({ ...input, expiresAt: '2027-01-01T00:00:00.000Z' }, ctx);
    expect(fakes.identity.users.get(existing.id)).toMatchObject({ provisioned: true, expiresAt: '2030-01-01T00:00:00.000Z' });
    expect(fakes.identity.count('setExpiresAt')).toBe(1);
  });

  it('completes on a re-run after a failure at the Grafana lookup that follows a refused login, owning no account', async () => {
    const { sut, fakes } = build();
    fakes.identity.add({ username: 'jean-dupont', email: 'jean.dupont@x.io', provisioned: false });
    const theirs = fakes.grafana.add({ login: 'jean-dupont', email: 'jean.dupont@x.io', password: 'old' });
    const { ctx, state } = context();
    fakes.grafana.failOn('findUser');
    await expect(sut.create(input, ctx)).rejects.toThrow();
    const result = await sut.create(input, ctx);
    expect(result.grafanaUserId).toBe(theirs.id);
    expect(state.value.owned?.grafana).toBe(false);
    expect(fakes.grafana.count('createUser')).toBe(1);
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
});
