// The Keycloak calls of a create, sent with undici's `request` on the adapter's kept-alive
// agent, against the real Keycloak: conflicts, refused tokens, aborts and connection reuse.
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { inspect } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { UpstreamError, type NewIdentityUser } from '@kup/core';
import { KeycloakHttp, type TokenSource } from '../src/keycloak-http.js';
import { KeycloakIdentityProvider } from '../src/keycloak.adapter.js';
import { httpAgent } from '../src/tls.js';
import { stackEnv, uniqueName, stackClientToken, stackKeycloakOptions } from './stack.js';

const env = stackEnv('KEYCLOAK_URL', 'KEYCLOAK_REALM', 'KEYCLOAK_CLIENT_ID', 'KEYCLOAK_CLIENT_SECRET');
const options = stackKeycloakOptions(env);
const idp = new KeycloakIdentityProvider(options);
const agent = httpAgent(options);
const created: string[] = [];

afterAll(async () => {
  await Promise.all(created.map((id) => idp.deleteUser(id)));
  await idp.close();
  await agent.close();
});

const newUser = (username: string, password: string): NewIdentityUser => ({
  username,
  email: `${username}@example.test`,
  firstName: undefined,
  lastName: undefined,
  password,
  expiresAt: undefined,
});

async function failure(work: Promise<unknown>): Promise<UpstreamError> {
  const error = await work.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(UpstreamError);
  return error as UpstreamError;
}


/** The same token with its signature altered: what a forger holding a captured token could send. */
function forged(token: string): string {
  const [header, payload, signature = ''] = token.split('.');
  const flipped = `${signature.startsWith('A') ? 'B' : 'A'}${signature.slice(1)}`;
  return `${header}.${payload}.${flipped}`;
}

/** Hands out `first` until invalidated, then `then`; counts what it was asked. */
function tokenSource(first: string, then: string): TokenSource & { gets: number; invalidations: number } {
  let current = first;
  const source = {
    gets: 0,
    invalidations: 0,
    get: async () => {
      source.gets += 1;
      return current;
    },
    invalidate: () => {
      source.invalidations += 1;
      current = then;
    },
  };
  return source;
}

describe('Keycloak calls of a create (real Keycloak)', () => {
  it('a taken username: a permanent 409 with Keycloak\'s message; neither password in the error or its causes', async () => {
    const username = uniqueName('kc-taken');
    created.push(await idp.createUser(newUser(username, 'First-Passw0rd-kc!')));
    const error = await failure(idp.createUser({ ...newUser(username, 'Second-Passw0rd-kc!'), email: `${username}-2@example.test` }));
    expect(error).toMatchObject({ system: 'keycloak', status: 409, retryable: false, code: 'KEYCLOAK_ERROR' });
    expect(error.message).toMatch(/^keycloak create user answered 409: User exists with same username/);
    for (const text of [inspect(error, { depth: 10 }), JSON.stringify(error), String(error.stack)]) {
      expect(text).not.toContain('First-Passw0rd-kc!');
      expect(text).not.toContain('Second-Passw0rd-kc!');
    }
  });

  it('a refused (forged) token gets one retry with a fresh token', async () => {
    const token = await stackClientToken(options, agent);
    const tokens = tokenSource(forged(token), token);
    const http = new KeycloakHttp({ baseUrl: options.baseUrl, realm: options.realm, dispatcher: agent, tokens });
    const username = uniqueName('kc-retry');
    const answer = await http.send('find user', 'GET', '/users', { query: { username, exact: 'true' } });
    expect(answer.payload).toEqual([]);
    expect(tokens).toMatchObject({ gets: 2, invalidations: 1 });
  });

  it('a token refused twice fails as a permanent 401 after exactly one retry, and changes nothing', async () => {
    const bad = forged(await stackClientToken(options, agent));
    const tokens = tokenSource(bad, bad);
    const http = new KeycloakHttp({ baseUrl: options.baseUrl, realm: options.realm, dispatcher: agent, tokens });
    const username = uniqueName('kc-forged');
    const body = { username, enabled: true, credentials: [{ type: 'password', value: 'Forged-Passw0rd-kc!', temporary: false }] };
    const error = await failure(http.send('create user', 'POST', '/users', { body }));
    expect(error).toMatchObject({ status: 401, retryable: false });
    expect(inspect(error, { depth: 10 })).not.toContain('Forged-Passw0rd-kc!');
    expect(tokens).toMatchObject({ gets: 2, invalidations: 1 });
    expect(await idp.findUser(username)).toBeUndefined();
  });

  it('an aborted signal: a retryable failure, and no user made', async () => {
    const username = uniqueName('kc-abort');
    const error = await failure(idp.createUser(newUser(username, 'Abort-Passw0rd-kc!'), AbortSignal.abort()));
    expect(error).toMatchObject({ status: undefined, retryable: true });
    expect(error.message).toBe('keycloak create user failed: aborted');
    expect(await idp.findUser(username)).toBeUndefined();
  });

  it('a create\'s calls reuse the kept-alive connections', async () => {
    const port = Number(new URL(options.baseUrl).port);
    let connections = 0;
    const onConnected = (message: unknown) => {
      if (Number((message as { connectParams: { port: string | number } }).connectParams.port) === port) connections += 1;
    };
    subscribe('undici:client:connected', onConnected);
    const own = new KeycloakIdentityProvider(options);
    try {
      const createOne = async () => {
        const username = uniqueName('kc-reuse');
        expect(await own.findUser(username)).toBeUndefined();
        const id = await own.createUser(newUser(username, 'Reuse-Passw0rd-kc!'));
        created.push(id);
        await own.setProvisioned(id, true, undefined, 7);
        expect(await own.findUser(username)).toMatchObject({ id, provisioned: true, grafanaUserId: 7 });
      };
      await createOne();
      // The token grant and the first calls may open a second socket while the first is being released.
      const settled = connections;
      expect(settled).toBeGreaterThanOrEqual(1);
      expect(settled).toBeLessThanOrEqual(2);
      for (let i = 0; i < 4; i += 1) await createOne();
      expect(connections).toBe(settled);
    } finally {
      unsubscribe('undici:client:connected', onConnected);
      await own.close();
    }
  });
});
