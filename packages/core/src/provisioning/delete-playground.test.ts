import { describe, expect, it } from 'vitest';
import { build, context, managed, seed } from '../test-support/delete-fixture.js';
import { DELETE_STEPS, deletePlayground } from './delete-playground.js';

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

  it('cuts the grace period of the namespace\'s pods to 30 s once it is Terminating, before waiting for it', async () => {
    const { sut, fakes } = build();
    seed(fakes, 'jean-dupont', 'jean.dupont@x.io');
    const { ctx } = context();
    await sut(['jean-dupont'], ctx);
    expect(fakes.cluster.podDeletes).toEqual([{ namespace: 'jean-dupont', gracePeriodSeconds: 30 }]);
    expect(fakes.cluster.calls.filter((c) => ['deleteNamespace', 'deletePods', 'waitForNamespaceGone'].includes(c))).toEqual(['deleteNamespace', 'deletePods', 'waitForNamespaceGone']);
    // No namespace, no cut.
    const other = build();
    other.fakes.identity.add({ username: 'no-ns', email: 'no-ns@x.io', provisioned: true });
    await other.sut(['no-ns']);
    expect(other.fakes.cluster.count('deletePods')).toBe(0);
  });

  it('a retry of the namespace step (the wait timed out) cuts the pods\' grace again', async () => {
    const { sut, fakes } = build();
    seed(fakes, 'jean-dupont', 'jean.dupont@x.io');
    fakes.cluster.terminatingPolls = 5;
    fakes.cluster.failOn('waitForNamespaceGone');
    const { ctx } = context();
    await expect(sut(['jean-dupont'], ctx)).rejects.toThrow();
    expect(await sut(['jean-dupont'], ctx)).toMatchObject({ removed: { namespace: true, keycloak: true, grafana: true } });
    expect(fakes.cluster.podDeletes.map((d) => d.gracePeriodSeconds)).toEqual([30, 30]);
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

    describe('a login its trainee renamed (Grafana\'s PUT /api/user)', () => {
      /** A trainee whose Keycloak user records its Grafana id, and who then renamed the login. */
      function renamed(to = 'someone-else') {
        const built = build();
        const { user, grafanaUser } = seed(built.fakes, 'jean-dupont', 'jean.dupont@x.io');
        built.fakes.identity.users.get(user.id)!.grafanaUserId = grafanaUser.id;
        built.fakes.grafana.users.get(grafanaUser.id)!.login = to;
        return { ...built, user, grafanaUser };
      }

      it('removes it, found by the recorded id', async () => {
        const { sut, fakes, grafanaUser } = renamed();
        expect(await sut(['jean-dupont'])).toMatchObject({ removed: { namespace: true, keycloak: true, grafana: true } });
        expect(fakes.grafana.users.has(grafanaUser.id)).toBe(false);
        expect(fakes.grafana.count('getUser')).toBe(1);
      });

      it('removes it and not another account that took the login since', async () => {
        const { sut, fakes, grafanaUser } = renamed();
        const squatter = fakes.grafana.add({ login: 'jean-dupont', email: 'squat@x.io' });
        expect(await sut(['jean-dupont'])).toMatchObject({ removed: { grafana: true } });
        expect(fakes.grafana.users.has(grafanaUser.id)).toBe(false);
        expect(fakes.grafana.users.get(squatter.id)).toBeDefined();
      });

      it('never removes a server admin or a denied login, even under the recorded id', async () => {
        const admin = renamed();
        admin.fakes.grafana.users.get(admin.grafanaUser.id)!.isGrafanaAdmin = true;
        expect(await admin.sut(['jean-dupont'])).toMatchObject({ removed: { keycloak: true, grafana: false } });
        expect(admin.fakes.grafana.users.get(admin.grafanaUser.id)).toBeDefined();

        const denied = renamed('admin');
        expect(await denied.sut(['jean-dupont'])).toMatchObject({ removed: { keycloak: true, grafana: false } });
        expect(denied.fakes.grafana.users.get(denied.grafanaUser.id)).toBeDefined();
        expect(admin.fakes.grafana.count('deleteUser') + denied.fakes.grafana.count('deleteUser')).toBe(0);
      });

      it('looks no id up when the Keycloak user records none: nothing but the record makes an account ours', async () => {
        for (const recorded of [null, undefined]) {
          const { sut, fakes, user, grafanaUser } = renamed();
          fakes.identity.users.get(user.id)!.grafanaUserId = recorded;
          expect(await sut(['jean-dupont'])).toMatchObject({ removed: { keycloak: true, grafana: false } });
          expect(fakes.grafana.users.get(grafanaUser.id)).toBeDefined();
          expect(fakes.grafana.count('getUser')).toBe(0);
        }
      });

      it('a retry after the Keycloak user is gone finds it by the id recorded at inspect', async () => {
        const { sut, fakes, grafanaUser } = renamed();
        fakes.grafana.failOn('deleteUser');
        const { ctx, state } = context();
        await expect(sut(['jean-dupont'], ctx)).rejects.toThrow();
        expect(fakes.identity.users.size).toBe(0);
        expect(state.value.target?.grafanaUserId).toBe(grafanaUser.id);
        expect(await sut(['jean-dupont'], ctx)).toMatchObject({ found: true, removed: { grafana: true } });
        expect(fakes.grafana.users.size).toBe(0);
      });
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
