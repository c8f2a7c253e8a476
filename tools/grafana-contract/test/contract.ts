// The Grafana contract: what the provisioner relies on from Grafana's HTTP API.
// The same cases run against the contract server and, where Docker is reachable, a real Grafana,
// so the contract server cannot drift from the real thing unnoticed.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contractClient, suffix, type Credentials, type GrafanaTarget } from './contract-client.js';

export type { GrafanaTarget } from './contract-client.js';

export function describeGrafanaContract(name: string, getTarget: () => Promise<GrafanaTarget>): void {
  describe(name, () => {
    let target: GrafanaTarget;
    const { admin: adminCredentials, call, asAdmin, createUser, lookup } = contractClient(() => target);

    beforeAll(async () => {
      target = await getTarget();
    });

    afterAll(async () => {
      await target?.dispose?.();
    });

    it('reports health without credentials', async () => {
      const res = await call('GET', '/api/health');
      expect(res.status).toBe(200);
      expect(res.contentType).toMatch(/^application\/json/);
      expect(res.body).toMatchObject({ database: 'ok', version: expect.any(String) });
      expect(typeof res.body.commit).toBe('string');
    });

    it('creates a user that lookup finds by login and by email, in org 1 as a non-admin', async () => {
      const user = await createUser();
      expect(typeof user.uid).toBe('string');
      expect(user.uid.length).toBeGreaterThan(0);

      const byLogin = await lookup(user.login);
      expect(byLogin.status).toBe(200);
      expect(byLogin.contentType).toMatch(/^application\/json/);
      expect(byLogin.body).toMatchObject({
        id: user.id,
        uid: user.uid,
        login: user.login,
        email: user.email,
        name: user.name,
        orgId: 1,
        isGrafanaAdmin: false,
        isDisabled: false,
        isExternal: false,
      });
      for (const key of ['theme', 'authLabels', 'avatarUrl', 'createdAt', 'updatedAt']) {
        expect(byLogin.body).toHaveProperty(key);
      }
      expect(Number.isNaN(Date.parse(byLogin.body.createdAt))).toBe(false);
      expect(Number.isNaN(Date.parse(byLogin.body.updatedAt))).toBe(false);
      expect(byLogin.body).not.toHaveProperty('password');

      const byEmail = await lookup(user.email.toUpperCase());
      expect(byEmail.status).toBe(200);
      expect(byEmail.body).toMatchObject({ id: user.id, login: user.login });

      const byLoginOtherCase = await lookup(user.login.toUpperCase());
      expect(byLoginOtherCase.status).toBe(200);
      expect(byLoginOtherCase.body.id).toBe(user.id);

      const members = await asAdmin('GET', '/api/orgs/1/users');
      expect(members.status).toBe(200);
      const member = (members.body as Array<{ userId: number; role: string }>).find((m) => m.userId === user.id);
      expect(member?.role).toBe('Viewer');
    });

    it('answers 404 "user not found" for an unknown login', async () => {
      const res = await lookup(`nobody-${suffix()}`);
      expect(res.status).toBe(404);
      expect(res.contentType).toMatch(/^application\/json/);
      expect(res.body).toMatchObject({ message: 'user not found' });
    });

    it('refuses a duplicate login with 412, case-insensitively', async () => {
      const user = await createUser();
      const s = suffix();
      const dup = { name: 'dup', login: user.login.toUpperCase(), email: `other-${s}@example.test`, password: 'pw-123456' };
      const res = await asAdmin('POST', '/api/admin/users', dup);
      expect(res.status).toBe(412);
      expect(res.body).toMatchObject({
        message: `User with email '${dup.email}' or username '${dup.login}' already exists`,
      });
      // the refused create left nothing behind
      expect((await lookup(dup.email)).status).toBe(404);
    });

    it('refuses a duplicate email in another case with 412', async () => {
      const user = await createUser();
      const dup = { name: 'dup', login: `other-${suffix()}`, email: user.email.toUpperCase(), password: 'pw-123456' };
      const res = await asAdmin('POST', '/api/admin/users', dup);
      expect(res.status).toBe(412);
      expect(res.body).toMatchObject({
        message: `User with email '${dup.email}' or username '${dup.login}' already exists`,
      });
      expect((await lookup(dup.login)).status).toBe(404);
    });

    it('answers 400 to a body that is not JSON and to an unknown org', async () => {
      const bad = await call('POST', '/api/admin/users', { auth: adminCredentials(), rawBody: '{not json' });
      expect(bad.status).toBe(400);
      expect(bad.contentType).toMatch(/^application\/json/);
      expect(typeof bad.body.message).toBe('string');

      const s = suffix();
      const unknownOrg = await asAdmin('POST', '/api/admin/users', {
        name: 'x',
        login: `org-${s}`,
        email: `org-${s}@example.test`,
        password: 'pw-123456',
        OrgId: 987_654,
      });
      expect(unknownOrg.status).toBe(400);
      expect((await lookup(`org-${s}`)).status).toBe(404);
    });

    it("accepts the user's own basic auth on /api/user with the right password only", async () => {
      const user = await createUser();
      const me = await call('GET', '/api/user', { auth: [user.login, user.password] });
      expect(me.status).toBe(200);
      expect(me.body).toMatchObject({ id: user.id, login: user.login, email: user.email, isGrafanaAdmin: false });

      const byEmail = await call('GET', '/api/user', { auth: [user.email, user.password] });
      expect(byEmail.status).toBe(200);
      expect(byEmail.body.id).toBe(user.id);

      const wrong = await call('GET', '/api/user', { auth: [user.login, `${user.password}x`] });
      expect(wrong.status).toBe(401);
      expect(wrong.contentType).toMatch(/^application\/json/);
      expect(typeof wrong.body.message).toBe('string');

      const none = await call('GET', '/api/user');
      expect(none.status).toBe(401);
    });

    it('changes a password: the old one stops working, the new one works', async () => {
      const user = await createUser();
      const newPassword = `new-${randomBytes(9).toString('base64url')}`;
      const res = await asAdmin('PUT', `/api/admin/users/${user.id}/password`, { password: newPassword });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ message: 'User password updated' });

      expect((await call('GET', '/api/user', { auth: [user.login, user.password] })).status).toBe(401);
      const me = await call('GET', '/api/user', { auth: [user.login, newPassword] });
      expect(me.status).toBe(200);
      expect(me.body.id).toBe(user.id);
    });

    it('refuses a password shorter than 4 characters with 400 and keeps the old one', async () => {
      const user = await createUser();
      const res = await asAdmin('PUT', `/api/admin/users/${user.id}/password`, { password: 'abc' });
      expect(res.status).toBe(400);
      expect((await call('GET', '/api/user', { auth: [user.login, user.password] })).status).toBe(200);
    });

    it('changes the org role with PATCH and lists it; refuses an unknown role and an unknown user', async () => {
      const user = await createUser();
      const res = await asAdmin('PATCH', `/api/orgs/1/users/${user.id}`, { role: 'Editor' });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ message: 'Organization user updated' });

      const members = await asAdmin('GET', '/api/orgs/1/users');
      expect(members.status).toBe(200);
      expect(Array.isArray(members.body)).toBe(true);
      const member = (members.body as Array<Record<string, unknown>>).find((m) => m.userId === user.id);
      expect(member).toMatchObject({ userId: user.id, login: user.login, email: user.email, role: 'Editor', orgId: 1 });

      const none = await asAdmin('PATCH', `/api/orgs/1/users/${user.id}`, { role: 'None' });
      expect(none.status).toBe(200);

      const badRole = await asAdmin('PATCH', `/api/orgs/1/users/${user.id}`, { role: 'Overlord' });
      expect(badRole.status).toBe(400);

      const unknown = await asAdmin('PATCH', `/api/orgs/1/users/${user.id + 1_000_000}`, { role: 'Editor' });
      expect(unknown.status).toBe(404);
    });

    it('deletes a user: lookup then 404s, a second delete 404s, the password stops working', async () => {
      const user = await createUser();
      const res = await asAdmin('DELETE', `/api/admin/users/${user.id}`);
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ message: 'User deleted' });

      const gone = await lookup(user.login);
      expect(gone.status).toBe(404);
      expect(gone.body).toMatchObject({ message: 'user not found' });

      const again = await asAdmin('DELETE', `/api/admin/users/${user.id}`);
      expect(again.status).toBe(404);
      expect(again.body).toMatchObject({ message: 'user not found' });

      expect((await call('GET', '/api/user', { auth: [user.login, user.password] })).status).toBe(401);

      // the login is free again
      const recreated = await createUser({ login: user.login, email: user.email });
      expect(recreated.id).not.toBe(user.id);
    });

    it('reads a user by id for a server admin: 404 for an unknown id, 403 to a non-admin', async () => {
      const user = await createUser();
      const byId = await asAdmin('GET', `/api/users/${user.id}`);
      expect(byId.status).toBe(200);
      expect(byId.body).toMatchObject({ id: user.id, login: user.login, email: user.email, isGrafanaAdmin: false });
      expect(byId.body).not.toHaveProperty('password');

      const unknown = await asAdmin('GET', `/api/users/${user.id + 1_000_000}`);
      expect(unknown.status).toBe(404);
      expect(unknown.body).toMatchObject({ message: 'user not found' });

      expect((await call('GET', `/api/users/${user.id}`, { auth: [user.login, user.password] })).status).toBe(403);
    });

    it('lets a signed-in user rename their own login (PUT /api/user): the old login leads nowhere, the id still does', async () => {
      const user = await createUser();
      const other = await createUser();
      const auth: Credentials = [user.login, user.password];
      const renamed = `renamed-${suffix()}`;

      const res = await call('PUT', '/api/user', { auth, body: { login: renamed, email: user.email, name: user.name } });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ message: 'User updated' });
      expect((await lookup(user.login)).status).toBe(404);
      expect((await asAdmin('GET', `/api/users/${user.id}`)).body).toMatchObject({ id: user.id, login: renamed, email: user.email });
      // The new login signs in with the same password.
      expect((await call('GET', '/api/user', { auth: [renamed, user.password] })).body).toMatchObject({ id: user.id, login: renamed });

      const taken = await call('PUT', '/api/user', { auth: [renamed, user.password], body: { login: other.login.toUpperCase(), email: user.email } });
      // 409 in the contract server and Grafana 12; older Grafanas fail on the unique index (500). Refused either way.
      expect(taken.status).toBeGreaterThanOrEqual(400);
      expect((await lookup(other.login)).body).toMatchObject({ id: other.id });
      const neither = await call('PUT', '/api/user', { auth: [renamed, user.password], body: { name: 'x' } });
      expect(neither.status).toBe(400);
      expect((await call('PUT', '/api/user', { body: { login: `x-${suffix()}` } })).status).toBe(401);
      expect((await lookup(renamed)).body).toMatchObject({ id: user.id });
    });

    it('answers 400 to a user id that is not a number', async () => {
      const res = await asAdmin('DELETE', '/api/admin/users/not-a-number');
      expect(res.status).toBe(400);
    });

    it('answers 401 on admin routes to a wrong admin password or no credentials', async () => {
      const wrong: Credentials = [target.adminUser, `${target.adminPassword}-wrong`];
      const s = suffix();
      const create = await call('POST', '/api/admin/users', {
        auth: wrong,
        body: { name: 'x', login: `x-${s}`, email: `x-${s}@example.test`, password: 'pw-123456' },
      });
      expect(create.status).toBe(401);
      expect(create.contentType).toMatch(/^application\/json/);
      expect(typeof create.body.message).toBe('string');

      expect((await call('GET', `/api/users/lookup?loginOrEmail=${target.adminUser}`, { auth: wrong })).status).toBe(
        401,
      );
      expect((await call('GET', `/api/users/lookup?loginOrEmail=${target.adminUser}`)).status).toBe(401);
      expect((await lookup(`x-${s}`)).status).toBe(404);
    });

    it('answers 403 on admin routes to a signed-in non-admin user', async () => {
      const user = await createUser();
      const victim = await createUser();
      const auth: Credentials = [user.login, user.password];
      const s = suffix();

      const create = await call('POST', '/api/admin/users', {
        auth,
        body: { name: 'x', login: `x-${s}`, email: `x-${s}@example.test`, password: 'pw-123456' },
      });
      expect(create.status).toBe(403);
      expect(create.contentType).toMatch(/^application\/json/);
      expect(typeof create.body.message).toBe('string');

      expect((await call('GET', `/api/users/lookup?loginOrEmail=${victim.login}`, { auth })).status).toBe(403);
      expect(
        (await call('PUT', `/api/admin/users/${victim.id}/password`, { auth, body: { password: 'pw-654321' } })).status,
      ).toBe(403);
      expect((await call('PATCH', `/api/orgs/1/users/${victim.id}`, { auth, body: { role: 'Admin' } })).status).toBe(
        403,
      );
      expect((await call('DELETE', `/api/admin/users/${victim.id}`, { auth })).status).toBe(403);

      // nothing happened
      expect((await lookup(`x-${s}`)).status).toBe(404);
      expect((await call('GET', '/api/user', { auth: [victim.login, victim.password] })).status).toBe(200);
    });
  });
}
