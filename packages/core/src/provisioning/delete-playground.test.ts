import { describe, expect, it } from 'vitest';
import { FakeCluster, FakeGrafana, FakeIdentity } from '../test-support/fake-ports.js';
import { DELETE_STEPS, deletePlayground } from './delete-playground.js';
import { memoryJobState, type DeleteState, type StepContext } from './step-context.js';

const silent = { info: () => undefined, warn: () => undefined, debug: () => undefined };
const managed = { 'managed-by': 'k8s-provisioner' };

function build() {
  const fakes = { identity: new FakeIdentity(), cluster: new FakeCluster(), grafana: new FakeGrafana() };
  const sut = (usernames: string[], ctx = context().ctx) =>
    deletePlayground({ ...fakes, namespaceDeleteTimeoutMs: 1_000 }, { usernames }, ctx);
  return { sut, fakes };
}

function context(state = memoryJobState<DeleteState>()) {
  const steps: string[] = [];
  const ctx: StepContext<DeleteState> = {
    jobKey: 'delete-x-1',
    password: async () => {
      throw new Error('a delete needs no password');
    },
    state,
    progress: async (step) => void steps.push(step),
    log: silent as never,
  };
  return { ctx, steps, state };
}

/** A complete playground, as a create leaves it. */
function seed(fakes: ReturnType<typeof build>['fakes'], username: string, email: string | undefined) {
  const user = fakes.identity.add({ username, email, provisioned: true });
  fakes.cluster.namespaces.set(username, { name: username, uid: username, phase: 'Active', labels: { ...managed }, annotations: {} });
  const grafanaUser = fakes.grafana.add({ login: username, email: email ?? username });
  return { user, grafanaUser };
}

describe('deletePlayground', () => {
  it('removes namespace (until gone), Keycloak user and Grafana user', async () => {
    const { sut, fakes } = build();
    const { user } = seed(fakes, 'jean-dupont', 'jean.dupont@x.io');
    fakes.cluster.terminatingPolls = 3;
    const { ctx, steps } = context();
    const result = await sut(['jean-dupont', 'jean-dupont-2'], ctx);
    expect(result).toEqual({ username: 'jean-dupont', userId: user.id, found: true, removed: { namespace: true, keycloak: true, grafana: true } });
    expect(steps).toEqual([...DELETE_STEPS]);
    expect(fakes.cluster.namespaces.size + fakes.identity.users.size + fakes.grafana.users.size).toBe(0);
    expect(fakes.cluster.count('waitForNamespaceGone')).toBe(1);
  });

  it('answers found:false, and changes nothing, for an unknown user', async () => {
    const { sut, fakes } = build();
    seed(fakes, 'someone', 'someone@x.io');
    expect(await sut(['nobody', 'no-body'])).toEqual({
      username: 'nobody',
      userId: null,
      found: false,
      removed: { namespace: false, keycloak: false, grafana: false },
    });
    expect(fakes.identity.users.size).toBe(1);
  });

  it('tries the name-derived candidate when the email-derived one does not exist', async () => {
    const { sut, fakes } = build();
    seed(fakes, 'emilie-durand', undefined);
    const result = await sut(['edurand', 'emilie-durand']);
    expect(result).toMatchObject({ username: 'emilie-durand', found: true, removed: { namespace: true, keycloak: true, grafana: true } });
  });

  it('never deletes a trainee of another email under the username the caller\'s email gives: USERNAME_CONFLICT, nothing touched', async () => {
    const { fakes } = build();
    const { user } = seed(fakes, 'jean-dupont', 'jean.dupont@a.com');
    const run = (input: { usernames: string[]; email?: string }) => deletePlayground({ ...fakes, namespaceDeleteTimeoutMs: 1_000 }, input, context().ctx);
    // b.com was refused at create (same username); an LMS un-enrolling b.com must not take a.com's playground.
    await expect(run({ usernames: ['jean-dupont'], email: 'jean.dupont@b.com' })).rejects.toMatchObject({ code: 'USERNAME_CONFLICT' });
    // Nor through the name-derived fallback.
    await expect(run({ usernames: ['never-made', 'jean-dupont'], email: 'never-made@x.io' })).rejects.toMatchObject({ code: 'USERNAME_CONFLICT' });
    expect(fakes.identity.byName('jean-dupont')?.id).toBe(user.id);
    expect(fakes.cluster.namespaces.has('jean-dupont')).toBe(true);
    expect(fakes.grafana.users.size).toBe(1);
    expect(fakes.identity.count('deleteUser') + fakes.cluster.count('deleteNamespace') + fakes.grafana.count('deleteUser')).toBe(0);
    // The same email (any case) deletes; so does the old service's trainee made from a name alone (no email held).
    expect(await run({ usernames: ['jean-dupont'], email: 'Jean.Dupont@A.com' })).toMatchObject({ found: true });
    seed(fakes, 'marie-curie', undefined);
    expect(await run({ usernames: ['mcurie', 'marie-curie'], email: 'mcurie@x.io' })).toMatchObject({ found: true, username: 'marie-curie' });
  });

  it('judges a namespace left without its user by the email it records', async () => {
    const { fakes } = build();
    fakes.cluster.namespaces.set('ana', { name: 'ana', uid: 'ana', phase: 'Active', labels: { ...managed }, annotations: { 'k8s-user-provisioner/email': 'ana@a.com' } });
    const run = (email: string) => deletePlayground({ ...fakes, namespaceDeleteTimeoutMs: 1_000 }, { usernames: ['ana'], email }, context().ctx);
    await expect(run('ana@b.com')).rejects.toMatchObject({ code: 'USERNAME_CONFLICT' });
    expect(fakes.cluster.namespaces.has('ana')).toBe(true);
    expect(await run('ana@a.com')).toMatchObject({ found: true });
  });

  it('removes leftovers of a half-made user (namespace only)', async () => {
    const { sut, fakes } = build();
    fakes.cluster.namespaces.set('half', { name: 'half', uid: 'u', phase: 'Active', labels: { ...managed }, annotations: {} });
    expect(await sut(['half'])).toMatchObject({ found: true, userId: null, removed: { namespace: true, keycloak: false, grafana: false } });
  });

  it('refuses an unmanaged namespace such as kube-system, deleting nothing', async () => {
    const { sut, fakes } = build();
    fakes.cluster.namespaces.set('kube-system', { name: 'kube-system', uid: 'u', phase: 'Active', labels: {}, annotations: {} });
    fakes.identity.add({ username: 'kube-system', email: 'kube.system@x.io' });
    await expect(sut(['kube-system'])).rejects.toMatchObject({ code: 'NAMESPACE_CONFLICT', retryable: false });
    expect(fakes.cluster.count('deleteNamespace') + fakes.identity.count('deleteUser')).toBe(0);
  });

  it('refuses a Keycloak user the provisioner does not manage', async () => {
    const { sut, fakes } = build();
    fakes.identity.add({ username: 'admin-human', email: 'h@x.io', managed: false });
    await expect(sut(['admin-human'])).rejects.toMatchObject({ code: 'UNMANAGED_USER' });
    expect(fakes.identity.users.size).toBe(1);
  });

  it('leaves a Grafana account with the same login but another email', async () => {
    const { sut, fakes } = build();
    seed(fakes, 'jean-dupont', 'jean.dupont@x.io');
    const stranger = [...fakes.grafana.users.values()][0]!;
    stranger.email = 'other@x.io';
    expect(await sut(['jean-dupont'])).toMatchObject({ removed: { namespace: true, keycloak: true, grafana: false } });
    expect(fakes.grafana.users.size).toBe(1);
  });

  it('finishes the same target after a failure midway, reporting everything it removed', async () => {
    const { sut, fakes } = build();
    const { user } = seed(fakes, 'jean-dupont', 'jean.dupont@x.io');
    fakes.grafana.failOn('deleteUser');
    const { ctx } = context();
    await expect(sut(['jean-dupont'], ctx)).rejects.toThrow();
    expect(fakes.identity.users.size).toBe(0);

    const result = await sut(['jean-dupont'], ctx);
    expect(result).toEqual({ username: 'jean-dupont', userId: user.id, found: true, removed: { namespace: true, keycloak: true, grafana: true } });
    expect(fakes.grafana.users.size).toBe(0);
  });

  it('a retry leaves alone a trainee made again under the name since (another user id), its namespace and Grafana account', async () => {
    const { sut, fakes } = build();
    const { user, grafanaUser } = seed(fakes, 'jean-dupont', 'jean.dupont@x.io');
    fakes.identity.users.get(user.id)!.grafanaUserId = grafanaUser.id;
    fakes.grafana.failOn('deleteUser');
    const { ctx } = context();
    await expect(sut(['jean-dupont'], ctx)).rejects.toThrow();
    // A create during the backoff: a new Keycloak user and namespace, the Grafana account taken over.
    const again = fakes.identity.add({ username: 'jean-dupont', email: 'jean.dupont@x.io', provisioned: true, grafanaUserId: grafanaUser.id });
    fakes.cluster.namespaces.set('jean-dupont', { name: 'jean-dupont', uid: 'new', phase: 'Active', labels: { ...managed }, annotations: {} });

    expect(await sut(['jean-dupont'], ctx)).toEqual({ username: 'jean-dupont', userId: user.id, found: true, removed: { namespace: true, keycloak: true, grafana: false } });
    expect(fakes.identity.users.get(again.id)).toBeDefined();
    expect(fakes.cluster.namespaces.get('jean-dupont')?.uid).toBe('new');
    expect(fakes.grafana.users.get(grafanaUser.id)).toBeDefined();
    expect(fakes.cluster.count('deleteNamespace') + fakes.identity.count('deleteUser')).toBe(2);
  });

  it('reports the removal on a re-run that finds nothing left', async () => {
    const { sut, fakes } = build();
    const { user } = seed(fakes, 'jean-dupont', 'jean.dupont@x.io');
    const { ctx } = context();
    await sut(['jean-dupont'], ctx);
    expect(await sut(['jean-dupont'], ctx)).toMatchObject({ found: true, userId: user.id, removed: { namespace: true, keycloak: true, grafana: true } });
  });

  describe('Grafana: only the account recorded as ours', () => {
    it('never removes a Grafana login when no Keycloak user or namespace exists (Grafana\'s admin)', async () => {
      const { sut, fakes } = build();
      const admin = fakes.grafana.add({ login: 'admin', email: 'admin@localhost', isGrafanaAdmin: true });
      const human = fakes.grafana.add({ login: 'jean-dupont', email: 'jean.dupont@x.io' });
      expect(await sut(['admin'])).toMatchObject({ found: false, removed: { grafana: false } });
      expect(await sut(['jean-dupont'])).toMatchObject({ found: false, removed: { grafana: false } });
      expect(fakes.grafana.users.get(admin.id)).toBeDefined();
      expect(fakes.grafana.users.get(human.id)).toBeDefined();
      expect(fakes.grafana.count('deleteUser')).toBe(0);
    });

    it('never removes the admin login, even for a managed user of that name with the same email', async () => {
      const { sut, fakes } = build();
      fakes.identity.add({ username: 'admin', email: 'admin@localhost', provisioned: true });
      const admin = fakes.grafana.add({ login: 'admin', email: 'admin@localhost' });
      expect(await sut(['admin'])).toMatchObject({ found: true, removed: { keycloak: true, grafana: false } });
      expect(fakes.grafana.users.get(admin.id)).toBeDefined();
    });

    it('removes the recorded account, and not another one now holding the login', async () => {
      const { sut, fakes } = build();
      const { user, grafanaUser } = seed(fakes, 'jean-dupont', 'jean.dupont@x.io');
      fakes.identity.users.get(user.id)!.grafanaUserId = grafanaUser.id;
      expect(await sut(['jean-dupont'])).toMatchObject({ removed: { grafana: true } });

      const other = build();
      const seeded = seed(other.fakes, 'jean-dupont', 'jean.dupont@x.io');
      other.fakes.identity.users.get(seeded.user.id)!.grafanaUserId = seeded.grafanaUser.id + 100;
      expect(await other.sut(['jean-dupont'])).toMatchObject({ removed: { keycloak: true, grafana: false } });
      expect(other.fakes.grafana.users.get(seeded.grafanaUser.id)).toBeDefined();
    });

    it('leaves a same-login, same-email account of a user that records none (made by this version)', async () => {
      const { sut, fakes } = build();
      const { user, grafanaUser } = seed(fakes, 'jean-dupont', 'jean.dupont@x.io');
      fakes.identity.users.get(user.id)!.grafanaUserId = null;
      expect(await sut(['jean-dupont'])).toMatchObject({ removed: { keycloak: true, grafana: false } });
      expect(fakes.grafana.users.get(grafanaUser.id)).toBeDefined();
    });

    it('a retry after the Keycloak user is gone still removes the account recorded at inspect', async () => {
      const { sut, fakes } = build();
      const { user, grafanaUser } = seed(fakes, 'jean-dupont', 'jean.dupont@x.io');
      fakes.identity.users.get(user.id)!.grafanaUserId = grafanaUser.id;
      fakes.grafana.failOn('deleteUser');
      const { ctx, state } = context();
      await expect(sut(['jean-dupont'], ctx)).rejects.toThrow();
      expect(state.value.target?.grafanaUserId).toBe(grafanaUser.id);
      expect(await sut(['jean-dupont'], ctx)).toMatchObject({ removed: { grafana: true } });
      expect(fakes.grafana.users.size).toBe(0);
    });
  });
});
