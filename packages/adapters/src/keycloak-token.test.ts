import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { UpstreamError } from '@kup/core';
import { KeycloakIdentityProvider } from './keycloak.adapter.js';
import { ClientCredentialsTokens } from './keycloak-token.js';

/** A fake Keycloak: counts token grants; the admin API rejects the first token it sees. */
let grants = 0;
let rejectFirstToken = false;
let lifetime = 300;
const seenTokens: string[] = [];
const fake = createServer((req, res) => {
  const send = (status: number, body: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  let body = '';
  req.on('data', (chunk: Buffer) => (body += chunk.toString()));
  req.on('end', () => {
    if (req.url?.endsWith('/protocol/openid-connect/token')) {
      const form = new URLSearchParams(body);
      if (form.get('grant_type') !== 'client_credentials') return send(400, { error: 'unsupported_grant_type' });
      if (form.get('client_secret') !== 's') return send(401, { error: 'unauthorized_client', error_description: 'Invalid client secret' });
      grants += 1;
      return send(200, { access_token: `token-${grants}`, expires_in: lifetime, token_type: 'Bearer' });
    }
    const token = req.headers.authorization?.replace('Bearer ', '') ?? '';
    seenTokens.push(token);
    if (rejectFirstToken && token === 'token-1') return send(401, { error: 'HTTP 401 Unauthorized' });
    return send(200, []);
  });
});
let baseUrl: string;

beforeAll(async () => {
  fake.listen(0, '127.0.0.1');
  await once(fake, 'listening');
  baseUrl = `http://127.0.0.1:${(fake.address() as AddressInfo).port}`;
});
afterAll(() => fake.close());
beforeEach(() => {
  grants = 0;
  rejectFirstToken = false;
  lifetime = 300;
  seenTokens.length = 0;
});

const credentials = () => ({ baseUrl, realm: 'r', clientId: 'c', clientSecret: 's', timeoutMs: 2_000 });

describe('ClientCredentialsTokens', () => {
  it('reuses a token until shortly before it expires; concurrent callers share one grant', async () => {
    const tokens = new ClientCredentialsTokens(credentials());
    expect(await Promise.all([tokens.get(), tokens.get(), tokens.get()])).toEqual(['token-1', 'token-1', 'token-1']);
    expect(await tokens.get()).toBe('token-1');
    expect(grants).toBe(1);
    tokens.invalidate();
    expect(await tokens.get()).toBe('token-2');
  });

  describe('with the clock moved by hand', () => {
    // Only Date is faked: the fake Keycloak and fetch still run on real timers.
    beforeEach(() => vi.useFakeTimers({ toFake: ['Date'] }));
    afterEach(() => vi.useRealTimers());

    it('renews a token that is about to expire', async () => {
      lifetime = 1; // shorter than the 30 s margin: renewed after half its life (500 ms)
      const start = Date.now();
      const tokens = new ClientCredentialsTokens(credentials());
      expect(await tokens.get()).toBe('token-1');
      vi.setSystemTime(start + 450);
      expect(await tokens.get()).toBe('token-1');
      vi.setSystemTime(start + 600);
      expect(await tokens.get()).toBe('token-2');
      expect(grants).toBe(2);
    });

    it('keeps a long-lived token until 30 s before it expires', async () => {
      lifetime = 300;
      const start = Date.now();
      const tokens = new ClientCredentialsTokens(credentials());
      expect(await tokens.get()).toBe('token-1');
      vi.setSystemTime(start + 269_000);
      expect(await tokens.get()).toBe('token-1');
      vi.setSystemTime(start + 271_000);
      expect(await tokens.get()).toBe('token-2');
    });
  });

  it('turns a refused grant into a permanent error naming no secret', async () => {
    const tokens = new ClientCredentialsTokens({ ...credentials(), clientSecret: 'top-secret' });
    const error = await tokens.get().then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(UpstreamError);
    expect(error).toMatchObject({ status: 401, retryable: false });
    expect((error as Error).message).toContain('unauthorized_client');
    expect((error as Error).message).not.toContain('top-secret');
  });
});

describe('KeycloakIdentityProvider token handling', () => {
  it('authenticates again once after a 401', async () => {
    rejectFirstToken = true;
    const idp = new KeycloakIdentityProvider(credentials());
    expect(await idp.listManaged(0, 10)).toEqual({ users: [], next: undefined });
    expect(seenTokens).toEqual(['token-1', 'token-2']);
    expect(grants).toBe(2);
  });
});
