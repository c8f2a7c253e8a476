// A true drop-in: the old service's callers, trainees and deployment keep working.
// The whole service (API over HTTP + worker) against the stack's real servers.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createJobId, QUEUES, secretKeyOf } from '@kup/core';
import { emailOf, randomSuffix, uniqueUsername } from '../helpers/names.js';
import { createConfigMapAs, grafanaLoginStatus, oidcLogin } from '../helpers/oidc.js';
import { createKeycloakUser, findGrafanaUser, findKeycloakUser, getNamespace, grafanaAdmin } from '../helpers/stack.js';
import { startService, type Service } from './service-harness.js';

describe('drop-in for the old service', () => {
  let s: Service;
  const call = (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) =>
    fetch(`${s.url}${path}`, {
      method,
      headers: { authorization: s.token, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });

  beforeAll(async () => {
    s = await startService();
  });
  afterAll(async () => {
    await s?.close();
  });

  it('creates and deletes a trainee with an internationalized address (UTF-8 local part, IDN domain)', async () => {
    const suffix = randomSuffix(3);
    const email = `Émilie.Durand.${suffix}@exämple.fr`;
    const username = `emilie-durand-${suffix}`;
    const created = await call('POST', '/provisioner', { email, full_name: 'Émilie Durand' }, { prefer: 'wait=60' });
    expect(created.status, await created.clone().text()).toBe(200);
    expect(await created.json()).toMatchObject({ message: 'User has been successfully created', username, password: expect.any(String) });

    const user = await findKeycloakUser(username);
    expect(user?.email?.normalize('NFC')).toBe(email.toLowerCase());
    expect((await findGrafanaUser(username))?.login).toBe(username);
    expect(await getNamespace(username)).toBeDefined();

    const deleted = await call('DELETE', '/provisioner', { email }, { prefer: 'wait=60' });
    expect(deleted.status, await deleted.clone().text()).toBe(200);
    expect(await deleted.json()).toMatchObject({ message: 'User has been deleted successfully', username, user_id: user?.id });
    expect(await findKeycloakUser(username)).toBeUndefined();

    // Deleting them again: they do not exist, which is an error, not a 200 "nothing to delete".
    const again = await call('DELETE', '/provisioner', { email }, { prefer: 'wait=60' });
    expect(again.status).toBe(404);
    expect(await again.json()).toMatchObject({ message: `No provisioned user found with username: ${username}`, username });
  }, 120_000);

  describe('sync never changes a trainee\'s cluster password', () => {
    /** Creates a trainee through the API; returns the password it answered with. */
    const create = async (username: string): Promise<string> => {
      const res = await call('POST', '/provisioner', { email: emailOf(username) }, { prefer: 'wait=60' });
      expect(res.status, await res.clone().text()).toBe(200);
      return ((await res.json()) as { password: string }).password;
    };
    const removeGrafanaUser = async (username: string) => {
      const user = await findGrafanaUser(username);
      expect((await grafanaAdmin(`/api/admin/users/${user?.id}`, { method: 'DELETE' })).status).toBe(200);
    };
    const sync = async (username: string, body: object = {}) => {
      const res = await call('POST', '/sync', { username, ...body }, { prefer: 'wait=90' });
      expect(res.status, await res.clone().text()).toBe(200);
      const answer = (await res.json()) as { message: string; results: { fixed_users: Record<string, unknown>[] } };
      expect(answer.message).toBe(`Sync completed for user ${username}`);
      return answer.results.fixed_users[0] ?? {};
    };
    /** The trainee, as they would: log in to the cluster with a password and act in their namespace. */
    const clusterWorks = async (username: string, password: string) => {
      const { idToken } = await oidcLogin(username, password);
      expect(await createConfigMapAs(idToken, username, `cm-${randomSuffix(2)}`)).toBe(201);
    };
    const cleanup: string[] = [];
    afterAll(async () => {
      for (const username of cleanup) await call('DELETE', '/provisioner', { email: emailOf(username) }, { prefer: 'wait=60' }).catch(() => undefined);
    });

    it('a missing Grafana user comes back with the current password while the service holds it', async () => {
      const username = uniqueUsername('t-dropin-sync');
      cleanup.push(username);
      const password = await create(username);
      await removeGrafanaUser(username);

      const fixed = await sync(username);
      expect(fixed).toMatchObject({ username, fixed_grafana: true, grafana_password_reset: false, keycloak_password_reset: false });
      expect(fixed.password_job_id).toBeUndefined();
      expect(await grafanaLoginStatus(username, password)).toBe(200);
      await clusterWorks(username, password);
    }, 180_000);

    it('without it, Grafana alone gets a new password, returned through the job; the cluster login is unchanged', async () => {
      const username = uniqueUsername('t-dropin-sync');
      cleanup.push(username);
      const password = await create(username);
      // The sealed password has expired (PASSWORD_TTL_SECONDS): the service no longer holds it.
      const createJob = await s.apiDeps.queues[QUEUES.provisioning].getJob(createJobId(username));
      await s.apiDeps.secrets.remove(secretKeyOf(createJob!));
      await removeGrafanaUser(username);

      const fixed = await sync(username);
      expect(fixed).toMatchObject({ fixed_grafana: true, grafana_password_reset: true, keycloak_password_reset: false });
      const view = await (await call('GET', `/jobs/${fixed.password_job_id as string}`)).json() as { result: { password?: string } };
      const grafanaPassword = view.result.password;
      expect(grafanaPassword).toEqual(expect.any(String));
      expect(grafanaPassword).not.toBe(password);
      expect(await grafanaLoginStatus(username, grafanaPassword!)).toBe(200);
      await clusterWorks(username, password);
      await expect(oidcLogin(username, grafanaPassword!)).rejects.toThrow(/refused/);
    }, 180_000);

    it('the current password is only ever given to the Grafana user of the very Keycloak user it was made for', async () => {
      // Someone held this username before: their create job (and sealed password) is still there.
      const username = uniqueUsername('t-dropin-sync');
      const other = `${username}@someone-else.invalid`;
      cleanup.push(username);
      const previousPassword = await create(username);
      const gone = await call('DELETE', '/provisioner', { email: emailOf(username) }, { prefer: 'wait=60' });
      expect(gone.status).toBe(200);
      // A new person gets the name outside a create job (adopted, say).
      const newcomer = await createKeycloakUser({ username, email: other, attributes: { 'managed-by': ['k8s-provisioner'], provisioned: ['true'] } });

      const fixed = await sync(username);
      expect(fixed).toMatchObject({ fixed_grafana: true, grafana_password_reset: true, keycloak_password_reset: false });
      expect((await findKeycloakUser(username))?.id).toBe(newcomer);
      // The previous holder's password opens nothing of the newcomer's.
      expect(await grafanaLoginStatus(username, previousPassword)).toBe(401);
      await expect(oidcLogin(username, previousPassword)).rejects.toThrow(/refused/);
      await call('DELETE', '/provisioner', { email: other }, { prefer: 'wait=60' });
    }, 180_000);

    it('the Keycloak password changes too only when the call asks ({"resetPasswords": true})', async () => {
      const username = uniqueUsername('t-dropin-sync');
      cleanup.push(username);
      const password = await create(username);
      await removeGrafanaUser(username);

      const fixed = await sync(username, { resetPasswords: true });
      expect(fixed).toMatchObject({ fixed_grafana: true, grafana_password_reset: true, keycloak_password_reset: true });
      const view = await (await call('GET', `/jobs/${fixed.password_job_id as string}`)).json() as { result: { password?: string } };
      const both = view.result.password!;
      await clusterWorks(username, both);
      expect(await grafanaLoginStatus(username, both)).toBe(200);
      await expect(oidcLogin(username, password)).rejects.toThrow(/refused/);
    }, 180_000);
  });
});
