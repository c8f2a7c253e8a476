// A trainee against Keycloak's account API (what the account console sends), with their own
// token from the public login client, whose access token carries the `account` audience and
// `manage-account`. The provisioner knows a trainee by the email it enrolled (delete's match,
// the namespace's record, the Grafana account) and by their full name (a create judged
// against an existing user): the realm's user profile lets only admins change them. Were the
// email editable, a trainee could move off their enrolment email so that `DELETE /provisioner`
// fails USERNAME_CONFLICT and the playground stays until expiry, or take another person's
// address so that person's create fails (security review, finding 2).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emailOf, uniqueUsername } from '../helpers/names.js';
import { oidcLogin } from '../helpers/oidc.js';
import { findKeycloakUser, getNamespace, keycloakAdmin, stackEnv, stackFetch } from '../helpers/stack.js';
import { callApi, startService, type Answer, type Service } from './service-harness.js';

describe("a trainee cannot change the email or name the provisioner knows them by", () => {
  let s: Service;
  const name = uniqueUsername('t-acct');
  const email = emailOf(name);
  const victim = uniqueUsername('t-victim');
  const toDelete = [email, emailOf(victim)];
  let accessToken = '';

  const call = (method: string, path: string, body?: object, wait?: number) => callApi(s, method, path, body, wait);
  /** The account API as the account console calls it, with the trainee's own access token. */
  const account = async (method: 'GET' | 'POST', body?: object): Promise<Answer> => {
    const url = `${stackEnv('KEYCLOAK_URL').replace(/\/+$/, '')}/realms/${stackEnv('KEYCLOAK_REALM')}/account/`;
    const response = await stackFetch(url, {
      method,
      headers: { authorization: `Bearer ${accessToken}`, accept: 'application/json', ...(body ? { 'content-type': 'application/json' } : {}) },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    const text = await response.text();
    return { status: response.status, body: text ? (JSON.parse(text) as Record<string, any>) : {} };
  };

  beforeAll(async () => {
    s = await startService();
    const created = await call('POST', '/provisioner', { email, full_name: 'Ada Lovelace' }, 90);
    expect(created.status, JSON.stringify(created.body)).toBe(200);
    ({ accessToken } = await oidcLogin(name, created.body.password as string));
  }, 180_000);

  afterAll(async () => {
    // A trainee whose edit got through (the test failed) is put back on the enrolment email
    // first, or the delete would not find them.
    const user = await findKeycloakUser(name).catch(() => undefined);
    if (user && user.email !== email) {
      const full = (await (await keycloakAdmin(`/users/${user.id}`)).json()) as Record<string, unknown>;
      await keycloakAdmin(`/users/${user.id}`, { method: 'PUT', json: { ...full, email } }).catch(() => undefined);
    }
    for (const address of toDelete) await call('DELETE', '/provisioner', { email: address }, 60).catch(() => undefined);
    await s?.close();
  });

  it('the account API serves the trainee (the token works), and a save that changes nothing is accepted', async () => {
    const me = await account('GET');
    expect(me.status, JSON.stringify(me.body)).toBe(200);
    expect(me.body).toMatchObject({ username: name, email, firstName: 'Ada', lastName: 'Lovelace' });
    const unchanged = await account('POST', { username: name, email, firstName: 'Ada', lastName: 'Lovelace' });
    expect(unchanged.status, JSON.stringify(unchanged.body)).toBe(204);
  });

  // The email last: were it accepted, the tests after it would meet the edited trainee.
  it.each([
    ['firstName', { firstName: 'Grace' }],
    ['lastName', { lastName: 'Hopper' }],
    ['email', { email: emailOf(victim) }],
  ])('changing %s: 400 read-only, nothing changed', async (field, change) => {
    const answer = await account('POST', { username: name, email, firstName: 'Ada', lastName: 'Lovelace', ...change });
    expect(answer.status, JSON.stringify(answer.body)).toBe(400);
    expect(JSON.stringify(answer.body)).toContain('error-user-attribute-read-only');
    expect(JSON.stringify(answer.body)).toContain(field);
    const user = await findKeycloakUser(name);
    expect(user).toMatchObject({ email, firstName: 'Ada', lastName: 'Lovelace' });
  });

  it('the address the trainee tried to take is still free: its owner enrols', async () => {
    const created = await call('POST', '/provisioner', { email: emailOf(victim) }, 90);
    expect(created.status, JSON.stringify(created.body)).toBe(200);
    expect((await findKeycloakUser(victim))?.email).toBe(emailOf(victim));
  }, 120_000);

  it('DELETE /provisioner with the enrolment email still removes the trainee', async () => {
    const deleted = await call('DELETE', '/provisioner', { email }, 90);
    expect(deleted.status, JSON.stringify(deleted.body)).toBe(200);
    expect(deleted.body).toMatchObject({ message: 'User has been deleted successfully', username: name });
    expect(await findKeycloakUser(name)).toBeUndefined();
    expect(await getNamespace(name)).toBeUndefined();
  }, 120_000);
});
