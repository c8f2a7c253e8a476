// `provisioner credential` against a stand-in issuer: the ExecCredential it prints, the
// cache (modes, reuse without a login), and what it does with a tampered, expired or
// refused token.
import { mkdtempSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startFakeIssuer, type FakeIssuer } from '../test-support/fake-issuer.js';
import { cacheFile, readCache } from '../credential/token-cache.js';
import { EXIT, type CliIo } from '../io.js';
import { credentialCommand } from './credential.js';

interface Captured extends CliIo { stdout: string[]; stderr: string[] }

describe('provisioner credential', () => {
  let fake: FakeIssuer;
  let cacheHome: string;

  beforeEach(async () => {
    fake = await startFakeIssuer();
    cacheHome = mkdtempSync(join(tmpdir(), 'kup-cred-'));
  });
  afterEach(() => fake.close());

  const io = (env: NodeJS.ProcessEnv = {}): Captured => {
    const stdout: string[] = [];
    const stderr: string[] = [];
    return { stdout, stderr, out: (t) => void stdout.push(t), err: (t) => void stderr.push(t), env: { XDG_CACHE_HOME: cacheHome, ...env }, interactive: false, confirm: async () => false };
  };
  const run = (c: Captured, username: string | undefined = 'jean') =>
    credentialCommand(c, { issuer: fake.issuer, clientId: fake.clientId, username, allowHttp: true });
  const credential = (c: Captured) => JSON.parse(c.stdout.join('')) as { apiVersion: string; kind: string; status: { token: string; expirationTimestamp: string } };
  const file = () => cacheFile({ XDG_CACHE_HOME: cacheHome }, { issuer: fake.issuer, clientId: fake.clientId, username: 'jean' });

  it('logs in with the password grant, prints an ExecCredential, and caches the tokens for the user alone', async () => {
    fake.answers = [{ username: 'jean', refreshToken: 'r-1', expiresIn: 300 }];
    const c = io({ PROVISIONER_PASSWORD: 'pw-1', KUBERNETES_EXEC_INFO: JSON.stringify({ apiVersion: 'client.authentication.k8s.io/v1', kind: 'ExecCredential', spec: { interactive: false } }) });
    expect(await run(c)).toBe(EXIT.ok);
    const out = credential(c);
    expect(out).toMatchObject({ apiVersion: 'client.authentication.k8s.io/v1', kind: 'ExecCredential' });
    expect(Date.parse(out.status.expirationTimestamp) - Date.now()).toBeGreaterThan(250_000);
    expect(fake.requests.map((r) => [r.grantType, r.params.get('username'), r.params.get('password')])).toEqual([['password', 'jean', 'pw-1']]);
    expect(readCache(file())).toEqual({ idToken: out.status.token, refreshToken: 'r-1' });
    expect(statSync(file()).mode & 0o777).toBe(0o600);
    expect(statSync(join(cacheHome, 'provisioner', 'credentials')).mode & 0o777).toBe(0o700);
    expect(statSync(join(cacheHome, 'provisioner')).mode & 0o777).toBe(0o700);
    // Only the cache file: no temporary file left behind.
    expect(readdirSync(join(cacheHome, 'provisioner', 'credentials'))).toHaveLength(1);
  });

  it('a second run answers from the cache, without asking the issuer for a token', async () => {
    fake.answers = [{ username: 'jean', refreshToken: 'r-1' }];
    const first = io({ PROVISIONER_PASSWORD: 'pw-1' });
    await run(first);
    const second = io({ PROVISIONER_PASSWORD: 'pw-1' });
    expect(await run(second)).toBe(EXIT.ok);
    expect(credential(second).status.token).toBe(credential(first).status.token);
    expect(fake.requests).toHaveLength(1);
  });

  it('a tampered cached token is not handed out: it refreshes', async () => {
    fake.answers = [{ username: 'jean', refreshToken: 'r-1' }, { username: 'jean', refreshToken: 'r-2' }];
    await run(io({ PROVISIONER_PASSWORD: 'pw-1' }));
    const cached = readCache(file());
    const [head, payload, signature] = (cached?.idToken ?? '').split('.');
    const flipped = `${signature?.[0] === 'A' ? 'B' : 'A'}${signature?.slice(1)}`;
    writeFileSync(file(), JSON.stringify({ ...cached, idToken: `${head}.${payload}.${flipped}` }));
    const c = io();
    expect(await run(c)).toBe(EXIT.ok);
    expect(fake.requests.map((r) => [r.grantType, r.params.get('refresh_token')])).toEqual([['password', null], ['refresh_token', 'r-1']]);
    expect(credential(c).status.token).not.toBe(cached?.idToken);
    expect(readCache(file())?.refreshToken).toBe('r-2');
  });

  it('an expired token whose refresh is refused leads to a new login, said on stderr', async () => {
    fake.answers = [{ username: 'jean', refreshToken: 'r-1', expiresIn: 5 }, { error: 'invalid_grant' }, { username: 'jean', refreshToken: 'r-3' }];
    await run(io({ PROVISIONER_PASSWORD: 'pw-1' }));
    const c = io({ PROVISIONER_PASSWORD: 'pw-1' });
    expect(await run(c)).toBe(EXIT.ok);
    expect(fake.requests.map((r) => r.grantType)).toEqual(['password', 'refresh_token', 'password']);
    expect(c.stderr.join('\n')).toMatch(/refresh login failed: the session is over.*; logging in again/);
    expect(readCache(file())?.refreshToken).toBe('r-3');
  });

  it('refuses a login as someone else than the kubeconfig names, and caches nothing', async () => {
    fake.answers = [{ username: 'marie' }];
    await expect(run(io({ PROVISIONER_PASSWORD: 'pw-1' }))).rejects.toThrow(/you logged in as marie, but this kubeconfig is for jean/);
    expect(readCache(file())).toBeUndefined();
  });

  it('says why a refused password fails, without the password', async () => {
    fake.answers = [{ error: 'invalid_grant' }];
    const error = await run(io({ PROVISIONER_PASSWORD: 'secret-pw-9' })).catch((e: unknown) => e as Error);
    expect(String(error)).toMatch(/password login failed: the username or password was refused/);
    expect(String(error)).not.toContain('secret-pw-9');
  });

  it('answers in the apiVersion kubectl asks for, and refuses one it does not speak', async () => {
    fake.answers = [{ username: 'jean' }];
    const beta = io({ PROVISIONER_PASSWORD: 'pw', KUBERNETES_EXEC_INFO: JSON.stringify({ apiVersion: 'client.authentication.k8s.io/v1beta1' }) });
    await run(beta);
    expect(credential(beta).apiVersion).toBe('client.authentication.k8s.io/v1beta1');
    await expect(run(io({ KUBERNETES_EXEC_INFO: JSON.stringify({ apiVersion: 'client.authentication.k8s.io/v2' }) }))).rejects.toThrow(/speaks client.authentication.k8s.io\/v1/);
  });

  it('keeps one cache per user', () => {
    const other = cacheFile({ XDG_CACHE_HOME: cacheHome }, { issuer: fake.issuer, clientId: fake.clientId, username: 'marie' });
    expect(other).not.toBe(file());
    expect(cacheFile({ HOME: '/home/x' }, { issuer: 'i', clientId: 'c' })).toMatch(/^\/home\/x\/\.cache\/provisioner\/credentials\/[0-9a-f]{40}\.json$/);
  });
});
