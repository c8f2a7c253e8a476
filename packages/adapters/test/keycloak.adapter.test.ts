import { afterAll, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { KeycloakIdentityProvider } from '../src/keycloak.adapter.js';
import { UpstreamError, type NewIdentityUser } from '@kup/core';
import { eventually } from '../../../test/helpers/poll.js';
import { stackAgent, stackEnv, uniqueName, stackClientToken, stackKeycloakOptions } from './stack.js';

const env = stackEnv('KEYCLOAK_URL', 'KEYCLOAK_REALM', 'KEYCLOAK_CLIENT_ID', 'KEYCLOAK_CLIENT_SECRET', 'KEYCLOAK_LOGIN_CLIENT_ID');
const options = stackKeycloakOptions(env);
const idp = new KeycloakIdentityProvider(options);
const agent = stackAgent(env.STACK_CA_FILE);
const created: string[] = [];

afterAll(async () => {
  await Promise.all(created.map((id) => idp.deleteUser(id)));
  await idp.close();
  await agent.close();
});

function newUser(username: string, password = 'Initial-Passw0rd!'): NewIdentityUser {
  return {
    username,
    email: `${username}@example.test`,
    firstName: 'Ada',
    lastName: 'Lovelace',
    password,
    expiresAt: '2027-12-31T00:00:00.000Z',
  };
}

async function create(user: NewIdentityUser): Promise<string> {
  const id = await idp.createUser(user);
  created.push(id);
  return id;
}

/** A password grant with the public client the trainees use: the status Keycloak answers. */
async function passwordGrant(username: string, password: string): Promise<number> {
  const response = await request(`${options.baseUrl}/realms/${options.realm}/protocol/openid-connect/token`, {
    method: 'POST',
    dispatcher: agent,
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'password', client_id: env.KEYCLOAK_LOGIN_CLIENT_ID!, username, password, scope: 'openid' }).toString(),
  });
  await response.body.dump();
  return response.statusCode;
}

/** A user's full admin representation, read with the provisioner client's own token. */
async function representationOf(id: string): Promise<Record<string, unknown>> {
  const response = await request(`${options.baseUrl}/admin/realms/${options.realm}/users/${id}`, {
    dispatcher: agent,
    headers: { authorization: `Bearer ${await stackClientToken(options, agent)}` },
  });
  return (await response.body.json()) as Record<string, unknown>;
}

async function expectUpstream(work: Promise<unknown>): Promise<UpstreamError> {
  const error = await work.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(UpstreamError);
  return error as UpstreamError;
}

describe('KeycloakIdentityProvider (real Keycloak)', () => {
  it('creates, finds, marks provisioned, logs in with a new password, deletes', async () => {
    const username = uniqueName('kc-trip');
    expect(await idp.findUser(username)).toBeUndefined();

    const id = await create(newUser(username));
    const found = await idp.findUser(username);
    expect(found).toMatchObject({
      id,
      username,
      email: `${username}@example.test`,
      enabled: true,
      managed: true,
      provisioned: false,
      expiresAt: '2027-12-31T00:00:00.000Z',
    });
    expect(found?.createdAt).toBeGreaterThan(Date.now() - 10 * 60_000);

    await idp.setProvisioned(id, true);
    expect(await idp.findUser(username)).toMatchObject({ managed: true, provisioned: true, expiresAt: '2027-12-31T00:00:00.000Z', email: `${username}@example.test` });
    await idp.setProvisioned(id, true); // twice: same outcome
    await idp.setProvisioned(id, false);
    expect(await idp.findUser(username)).toMatchObject({ managed: true, provisioned: false, expiresAt: '2027-12-31T00:00:00.000Z' });

    expect(await passwordGrant(username, 'Initial-Passw0rd!')).toBe(200);
    await idp.setPassword(id, 'Second-Passw0rd!');
    expect(await passwordGrant(username, 'Second-Passw0rd!')).toBe(200);
    expect(await passwordGrant(username, 'Initial-Passw0rd!')).toBe(401);

    expect(await idp.deleteUser(id)).toBe(true);
    expect(await idp.findUser(username)).toBeUndefined();
    expect(await idp.deleteUser(id)).toBe(false);
  });

  it('records the Grafana account: none at creation, the id with provisioned or alone; emails unverified by default', async () => {
    const username = uniqueName('kc-graf');
    const id = await create(newUser(username));
    // `none` needs the attribute declared in the realm's user profile (Keycloak drops undeclared ones).
    expect(await idp.findUser(username)).toMatchObject({ grafanaUserId: null, fullName: 'Ada Lovelace' });
    await idp.setProvisioned(id, true, undefined, 4242);
    expect(await idp.findUser(username)).toMatchObject({ provisioned: true, grafanaUserId: 4242, expiresAt: '2027-12-31T00:00:00.000Z' });
    await idp.setGrafanaUserId(id, 77);
    expect(await idp.findUser(username)).toMatchObject({ provisioned: true, grafanaUserId: 77 });
    await idp.setGrafanaUserId(id, null);
    expect((await idp.findUser(username))?.grafanaUserId).toBeNull();

    expect((await representationOf(id)).emailVerified).toBe(false);

    const verifying = new KeycloakIdentityProvider({ ...options, emailVerified: true });
    const other = uniqueName('kc-verified');
    const otherId = await verifying.createUser(newUser(other));
    created.push(otherId);
    expect((await representationOf(otherId)).emailVerified).toBe(true);
    await verifying.close();
  });

  it('marks a user it created in one write, leaving the user a read-then-write would, password included', async () => {
    // What the two users may differ in: their id, name and creation time.
    const comparable = async (id: string) => {
      const { id: _id, username: _username, email, createdTimestamp: _created, ...rest } = await representationOf(id);
      return { ...rest, email: String(email).replace(/^[^@]*/, '') };
    };
    const withProfile = (username: string) => ({ ...newUser(username), profile: 'large' });
    const oneWrite = uniqueName('kc-made');
    const { password: _password, ...made } = withProfile(oneWrite);
    const oneWriteId = await create({ ...made, password: 'Made-Passw0rd!' });
    await idp.setCreatedProvisioned(oneWriteId, made, 4243);

    const readWrite = uniqueName('kc-read');
    const readWriteId = await create(withProfile(readWrite));
    await idp.setProvisioned(readWriteId, true, undefined, 4243);

    expect(await idp.findUser(oneWrite)).toMatchObject({ provisioned: true, managed: true, grafanaUserId: 4243, email: `${oneWrite}@example.test`, fullName: 'Ada Lovelace', profile: 'large', expiresAt: '2027-12-31T00:00:00.000Z' });
    expect(await comparable(oneWriteId)).toEqual(await comparable(readWriteId));
    expect(await passwordGrant(oneWrite, 'Made-Passw0rd!')).toBe(200);
  });

  it('finds by exact username only', async () => {
    const username = uniqueName('kc-exact');
    await create(newUser(username));
    expect(await idp.findUser(username.slice(0, -2))).toBeUndefined();
    expect((await idp.findUser(username))?.username).toBe(username);
  });

  it('refuses a second user with the same username: a permanent 409', async () => {
    const username = uniqueName('kc-dup');
    await create(newUser(username));
    const error = await expectUpstream(idp.createUser({ ...newUser(username, 'Other-Passw0rd!'), email: `${username}-2@example.test` }));
    expect(error).toMatchObject({ system: 'keycloak', status: 409, retryable: false });
    expect(error.message).not.toContain('Passw0rd');
  });

  it('adopts a user: managed and provisioned, other attributes kept', async () => {
    const username = uniqueName('kc-adopt');
    const id = await create(newUser(username));
    await idp.adopt(id);
    expect(await idp.findUser(username)).toMatchObject({ managed: true, provisioned: true, expiresAt: '2027-12-31T00:00:00.000Z' });
  });

  it('lists managed users page by page', async () => {
    const prefix = uniqueName('kc-page');
    const ids = await Promise.all([1, 2, 3].map((n) => create(newUser(`${prefix}-${n}`))));
    // Other tests create and delete managed users meanwhile: walk the pages until ours show.
    await eventually('all three users listed', async () => {
      const seen = new Set<string>();
      let first: number | undefined = 0;
      while (first !== undefined) {
        const page = await idp.listManaged(first, 2);
        expect(page.users.length).toBeLessThanOrEqual(2);
        expect(page.users.every((u) => u.managed)).toBe(true);
        if (page.users.length < 2) expect(page.next).toBeUndefined();
        else expect(page.next).toBe(first + 2);
        for (const user of page.users) seen.add(user.id);
        first = page.next;
      }
      return ids.every((id) => seen.has(id)) ? true : undefined;
    }, 30_000);
  });

  it('reports a wrong client secret as a permanent authentication failure', async () => {
    const wrong = new KeycloakIdentityProvider({ ...options, clientSecret: 'not-the-secret' });
    const error = await expectUpstream(wrong.findUser('anyone'));
    expect(error).toMatchObject({ system: 'keycloak', retryable: false });
    expect(error.status).toBeGreaterThanOrEqual(400);
    expect(error.status).toBeLessThan(500);
    expect(error.message).not.toContain('not-the-secret');
    await wrong.close();
  });

  it('fails a missing user as a permanent 404 when updating attributes', async () => {
    const error = await expectUpstream(idp.setProvisioned('00000000-0000-0000-0000-000000000000', true));
    expect(error).toMatchObject({ status: 404, retryable: false });
  });
});
