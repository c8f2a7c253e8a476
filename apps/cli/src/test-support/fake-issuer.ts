// A stand-in OIDC issuer for the credential plugin's unit tests only (the e2e tests use the
// stack's Keycloak): discovery, JWKS, device authorization and a token endpoint whose
// answers each test scripts, signing ID tokens with a key of its own.
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey } from 'jose';

export interface TokenRequest {
  grantType: string;
  params: URLSearchParams;
  /** Date.now() when it arrived (fake timers move it). */
  at: number;
}

/** What the token endpoint answers: an OAuth error code, or tokens (an ID token for `username`). */
export type TokenAnswer = { error: string } | { username: string; expiresIn?: number; refreshToken?: string };

export interface FakeIssuer {
  issuer: string;
  clientId: string;
  requests: TokenRequest[];
  /** The bodies of device authorization requests. */
  deviceRequests: URLSearchParams[];
  /** Answers for the next token requests, in order; when empty, `fallback`. */
  answers: TokenAnswer[];
  fallback: TokenAnswer;
  /** Device authorization's polling interval (seconds). */
  interval: number;
  idToken(username: string, expiresIn?: number): Promise<string>;
  close(): Promise<void>;
}

async function body(req: IncomingMessage): Promise<URLSearchParams> {
  let text = '';
  for await (const chunk of req) text += String(chunk);
  return new URLSearchParams(text);
}

function json(res: ServerResponse, status: number, value: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  res.end(JSON.stringify(value));
}

export async function startFakeIssuer(clientId = 'kubernetes'): Promise<FakeIssuer> {
  const { privateKey, publicKey } = await generateKeyPair('RS256');
  const jwk = { ...(await exportJWK(publicKey)), kid: 'test-key', alg: 'RS256', use: 'sig' };
  let server: Server | undefined;
  const fake: FakeIssuer = {
    issuer: '',
    clientId,
    requests: [],
    deviceRequests: [],
    answers: [],
    fallback: { error: 'invalid_grant' },
    interval: 1,
    idToken: (username, expiresIn = 300) => sign(privateKey, fake.issuer, clientId, username, expiresIn),
    close: () => new Promise((resolve) => (server ? server.close(() => resolve()) : resolve())),
  };
  server = createServer((req, res) => {
    void handle(fake, jwk, req, res).catch((error: unknown) => json(res, 500, { error: 'server_error', error_description: String(error) }));
  });
  await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
  fake.issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}/realms/test`;
  return fake;
}

function sign(key: CryptoKey, issuer: string, audience: string, username: string, expiresIn: number): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ preferred_username: username, azp: audience })
    .setProtectedHeader({ alg: 'RS256', kid: 'test-key', typ: 'JWT' })
    .setIssuer(issuer)
    .setAudience(audience)
    .setSubject(`sub-${username}`)
    .setJti(randomUUID())
    .setIssuedAt(now)
    .setExpirationTime(now + expiresIn)
    .sign(key);
}

async function handle(fake: FakeIssuer, jwk: unknown, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const path = new URL(req.url ?? '/', fake.issuer).pathname.replace('/realms/test', '');
  if (path === '/.well-known/openid-configuration') {
    return json(res, 200, {
      issuer: fake.issuer,
      token_endpoint: `${fake.issuer}/token`,
      jwks_uri: `${fake.issuer}/jwks`,
      device_authorization_endpoint: `${fake.issuer}/device`,
      authorization_endpoint: `${fake.issuer}/auth`,
      id_token_signing_alg_values_supported: ['RS256'],
    });
  }
  if (path === '/jwks') return json(res, 200, { keys: [jwk] });
  if (path === '/device' && req.method === 'POST') {
    fake.deviceRequests.push(await body(req));
    return json(res, 200, {
      device_code: 'device-code-1', user_code: 'ABCD-EFGH', verification_uri: `${fake.issuer}/device-login`,
      verification_uri_complete: `${fake.issuer}/device-login?user_code=ABCD-EFGH`, expires_in: 600, interval: fake.interval,
    });
  }
  if (path === '/token' && req.method === 'POST') {
    const params = await body(req);
    fake.requests.push({ grantType: params.get('grant_type') ?? '', params, at: Date.now() });
    const answer = fake.answers.shift() ?? fake.fallback;
    if ('error' in answer) return json(res, 400, { error: answer.error });
    return json(res, 200, {
      access_token: 'opaque-access-token', token_type: 'Bearer', expires_in: answer.expiresIn ?? 300,
      id_token: await fake.idToken(answer.username, answer.expiresIn),
      ...(answer.refreshToken ? { refresh_token: answer.refreshToken } : {}),
    });
  }
  json(res, 404, { error: 'not_found' });
}
