// The Keycloak calls of a create (find, create, the attribute read and write) against a fake
// Keycloak: what each request carries, how each failure comes out, and the kept connection.
import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { inspect } from 'node:util';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { UpstreamError, type NewIdentityUser } from '@kup/core';
import { KeycloakIdentityProvider } from './keycloak.adapter.js';

interface Seen {
  method: string;
  url: string;
  token: string;
  body: string;
}

const PASSWORD = 'Fake-Secret-Passw0rd!';
let grants = 0;
/** Tokens the admin API refuses with a 401. */
const refused = new Set<string>();
const seen: Seen[] = [];
let connections = 0;
/** Requests to a path holding `hang` get no answer (until the test's end). */
const hanging: ServerResponse[] = [];

interface Reply {
  status: number;
  json?: unknown;
  headers?: Record<string, string>;
  text?: string;
}

const json = (status: number, body?: unknown, headers: Record<string, string> = {}): Reply => ({ status, json: body, headers });

/** The fake's answer to one request; undefined: no answer at all. */
function reply(req: IncomingMessage, body: string): Reply | undefined {
  const url = req.url ?? '';
  if (url.endsWith('/protocol/openid-connect/token')) {
    grants += 1;
    return json(200, { access_token: `token-${grants}`, expires_in: 300 });
  }
  const token = req.headers.authorization?.replace('Bearer ', '') ?? '';
  seen.push({ method: req.method ?? '', url, token, body });
  if (url.includes('hang')) return undefined;
  if (refused.has(token)) return json(401, { error: 'HTTP 401 Unauthorized' });
  const users = '/admin/realms/my%20realm/users';
  if (req.method === 'GET' && url === `${users}?username=object&exact=true`) return json(200, { users: [] });
  if (req.method === 'GET' && url.startsWith(`${users}?`)) {
    const username = new URL(url, 'http://x').searchParams.get('username') ?? '';
    // Keycloak matches exact=true case-insensitively; a near name is not the user.
    return json(200, [{ id: 'u-near', username: `${username}x` }, { id: 'u-1', username, attributes: { 'managed-by': ['k8s-provisioner'] } }]);
  }
  if (req.method === 'POST' && url === users) {
    const { username } = JSON.parse(body) as { username: string };
    if (username === 'taken') return json(409, { errorMessage: 'User exists with same username' });
    if (username === 'no-location') return json(201);
    return json(201, undefined, { location: `http://kc.example${users}/id-of-${username}` });
  }
  if (url === `${users}/gone`) return json(404, { error: 'User not found' });
  if (url === `${users}/weak/reset-password`) return json(400, { error: 'invalidPasswordMinLengthMessage', error_description: 'Invalid password: minimum length 30.' });
  if (req.method === 'GET' && url === `${users}/u-1/groups?briefRepresentation=true`) return json(200, [{ id: 'g-1', name: 'cohort-a' }, { id: 'g-2' }]);
  if (req.method === 'DELETE' || (req.method === 'PUT' && /\/(reset-password|groups\/[^/]+)$/.test(url))) return json(204);
  if (req.method === 'GET' && url === `${users}/html`) return { status: 200, headers: { 'content-type': 'text/html' }, text: '<html>proxy</html>' };
  if (req.method === 'GET' && url.startsWith(`${users}/`)) {
    return json(200, { id: 'u-1', username: 'ada', email: 'ada@example.test', attributes: { 'managed-by': ['k8s-provisioner'], 'expires-at': ['2030-01-01'] } });
  }
  if (req.method === 'PUT' && url.startsWith(`${users}/`)) return json(204);
  return json(400, { error: 'unexpected request' });
}

const fake = createServer((req, res) => {
  let body = '';
  req.on('data', (chunk: Buffer) => (body += chunk.toString()));
  req.on('end', () => {
    const answer = reply(req, body);
    if (!answer) {
      hanging.push(res);
      return;
    }
    const text = answer.text ?? (answer.json === undefined ? undefined : JSON.stringify(answer.json));
    res.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers }).end(text);
  });
});
fake.on('connection', () => (connections += 1));
let baseUrl: string;

beforeAll(async () => {
  fake.listen(0, '127.0.0.1');
  await once(fake, 'listening');
  baseUrl = `http://127.0.0.1:${(fake.address() as AddressInfo).port}`;
});
afterAll(() => {
  fake.closeAllConnections();
  fake.close();
});
beforeEach(() => {
  grants = 0;
  refused.clear();
  seen.length = 0;
  connections = 0;
});
const providers: KeycloakIdentityProvider[] = [];
afterEach(async () => {
  for (const res of hanging.splice(0)) res.destroy();
  await Promise.all(providers.splice(0).map((p) => p.close()));
});

function provider(timeoutMs = 2_000): KeycloakIdentityProvider {
  const made = new KeycloakIdentityProvider({ baseUrl, realm: 'my realm', clientId: 'c', clientSecret: 's', timeoutMs });
  providers.push(made);
  return made;
}

const newUser = (username: string): NewIdentityUser => ({
  username,
  email: `${username}@example.test`,
  firstName: 'Ada',
  lastName: undefined,
  password: PASSWORD,
  expiresAt: '2030-01-01T00:00:00.000Z',
});

async function failure(work: Promise<unknown>): Promise<UpstreamError> {
  const error = await work.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(UpstreamError);
  return error as UpstreamError;
}

describe('KeycloakIdentityProvider: the calls of a create', () => {
  it('finds by exact username, with the realm and query encoded', async () => {
    const user = await provider().findUser('a&b=c+d');
    expect(user).toMatchObject({ id: 'u-1', username: 'a&b=c+d', managed: true });
    expect(seen.map((s) => s.url)).toEqual(['/admin/realms/my%20realm/users?username=a%26b%3Dc%2Bd&exact=true']);
    expect(seen[0]?.token).toBe('token-1');
  });

  it('creates a user with its password and attributes, the id from the Location header', async () => {
    const id = await provider().createUser(newUser('ada'));
    expect(id).toBe('id-of-ada');
    const body = JSON.parse(seen[0]?.body ?? '{}') as Record<string, unknown>;
    expect(body).toMatchObject({
      username: 'ada',
      enabled: true,
      email: 'ada@example.test',
      emailVerified: false,
      firstName: 'Ada',
      credentials: [{ type: 'password', value: PASSWORD, temporary: false }],
      attributes: { 'managed-by': ['k8s-provisioner'], 'grafana-user-id': ['none'], 'expires-at': ['2030-01-01T00:00:00.000Z'] },
    });
    expect(body).not.toHaveProperty('lastName');
  });

  it('a create answered without a Location is a retryable bad gateway', async () => {
    expect(await failure(provider().createUser(newUser('no-location')))).toMatchObject({ status: 502, retryable: true });
  });

  it('a taken username: a permanent 409 with Keycloak\'s message, no password in the message or its causes', async () => {
    const error = await failure(provider().createUser(newUser('taken')));
    expect(error).toMatchObject({ system: 'keycloak', status: 409, retryable: false, code: 'KEYCLOAK_ERROR' });
    expect(error.message).toBe('keycloak create user answered 409: User exists with same username');
    expect(inspect(error, { depth: 10 })).not.toContain(PASSWORD);
    expect(JSON.stringify(error)).not.toContain(PASSWORD);
  });

  it('updates attributes by reading the user and writing the whole representation back, id encoded', async () => {
    await provider().setProvisioned('a/b', true, undefined, 42);
    expect(seen.map((s) => `${s.method} ${s.url}`)).toEqual(['GET /admin/realms/my%20realm/users/a%2Fb', 'PUT /admin/realms/my%20realm/users/a%2Fb']);
    expect(JSON.parse(seen[1]?.body ?? '{}')).toEqual({
      id: 'u-1',
      username: 'ada',
      email: 'ada@example.test',
      attributes: { 'managed-by': ['k8s-provisioner'], 'expires-at': ['2030-01-01'], provisioned: ['true'], 'grafana-user-id': ['42'] },
    });
  });

  it('a missing user: a permanent 404 "user not found", nothing written', async () => {
    const error = await failure(provider().setExpiresAt('gone', undefined));
    expect(error).toMatchObject({ status: 404, retryable: false });
    expect(error.message).toBe('keycloak set expiry answered 404: user not found');
    expect(seen.map((s) => s.method)).toEqual(['GET']);
  });

  it('sets a password, adds to a group, lists groups and deletes, ids encoded', async () => {
    const idp = provider();
    await idp.setPassword('u-1', PASSWORD);
    await idp.addToGroup('u-1', 'g/1');
    expect(await idp.groupsOf('u-1')).toEqual(['cohort-a']);
    expect(await idp.deleteUser('u 1')).toBe(true);
    expect(await idp.deleteUser('gone')).toBe(false);
    expect(seen.map((s) => `${s.method} ${s.url}`)).toEqual([
      'PUT /admin/realms/my%20realm/users/u-1/reset-password',
      'PUT /admin/realms/my%20realm/users/u-1/groups/g%2F1',
      'GET /admin/realms/my%20realm/users/u-1/groups?briefRepresentation=true',
      'DELETE /admin/realms/my%20realm/users/u%201',
      'DELETE /admin/realms/my%20realm/users/gone',
    ]);
    expect(JSON.parse(seen[0]?.body ?? '{}')).toEqual({ type: 'password', value: PASSWORD, temporary: false });
  });

  it('a refused password: Keycloak\'s reason, never the password', async () => {
    const error = await failure(provider().setPassword('weak', PASSWORD));
    expect(error).toMatchObject({ status: 400, retryable: false });
    expect(error.message).toBe('keycloak set password answered 400: invalidPasswordMinLengthMessage');
    expect(inspect(error, { depth: 10 })).not.toContain(PASSWORD);
  });

  it('a find answered with JSON that is not a list: a retryable bad gateway, not "no such user"', async () => {
    expect(await failure(provider().findUser('object'))).toMatchObject({ status: 502, retryable: true });
  });

  it('a 2xx that is not JSON is a retryable bad gateway', async () => {
    expect(await failure(provider().setProfile('html', 'large'))).toMatchObject({ status: 502, retryable: true });
  });

  it.each([
    ['find', (idp: KeycloakIdentityProvider) => idp.findUser('ada'), ['token-1', 'token-2']],
    ['create', (idp: KeycloakIdentityProvider) => idp.createUser(newUser('ada')), ['token-1', 'token-2']],
    ['update', (idp: KeycloakIdentityProvider) => idp.adopt('u-1'), ['token-1', 'token-2', 'token-2']],
  ])('%s: a 401 gets one retry with a fresh token', async (_name, call, tokens) => {
    refused.add('token-1');
    await call(provider());
    expect(grants).toBe(2);
    expect(seen.map((s) => s.token)).toEqual(tokens);
  });

  it('a second 401 is not retried again: a permanent 401', async () => {
    refused.add('token-1');
    refused.add('token-2');
    const error = await failure(provider().createUser(newUser('ada')));
    expect(error).toMatchObject({ status: 401, retryable: false });
    expect(seen.map((s) => s.token)).toEqual(['token-1', 'token-2']);
    expect(inspect(error, { depth: 10 })).not.toContain(PASSWORD);
  });

  it('an already aborted signal sends nothing: retryable, "aborted"', async () => {
    const error = await failure(provider().createUser(newUser('ada'), AbortSignal.abort()));
    expect(error).toMatchObject({ status: undefined, retryable: true });
    expect(error.message).toBe('keycloak create user failed: aborted');
    expect(seen).toEqual([]);
  });

  it('an abort while waiting for the answer ends the call at once', async () => {
    const controller = new AbortController();
    const pending = failure(provider(60_000).setProvisioned('hang', true, controller.signal));
    await expect.poll(() => seen.length, { timeout: 10_000 }).toBe(1);
    controller.abort();
    expect((await pending).message).toBe('keycloak set provisioned failed: aborted');
  });

  it('no answer within the timeout: retryable, "timed out"', async () => {
    const error = await failure(provider(300).findUser('hang'));
    expect(error).toMatchObject({ status: undefined, retryable: true });
    expect(error.message).toBe('keycloak find user failed: timed out');
  });

  it('sequential calls reuse their kept-alive connection (token grant included)', async () => {
    const idp = provider();
    const round = async () => {
      await idp.findUser('ada');
      await idp.createUser(newUser('ada'));
      await idp.setProvisioned('u-1', true);
    };
    await round();
    // A request sent the instant the token's answer ended may open a second socket (the first
    // is not yet released); from then on the pool only reuses.
    const settled = connections;
    expect(settled).toBeGreaterThanOrEqual(1);
    expect(settled).toBeLessThanOrEqual(2);
    for (let i = 0; i < 5; i += 1) await round();
    expect(seen).toHaveLength(24);
    expect(connections).toBe(settled);
  });
});
