// The device authorization grant's polling against a stand-in token endpoint: it waits the
// interval between polls, slows down by 5 s on `slow_down`, and stops with a clear message
// on `expired_token` or `access_denied`. Fake timers: the waits are measured, not slept.
import { createHash } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { startFakeIssuer, type FakeIssuer } from '../test-support/fake-issuer.js';
import { LoginError, OidcClient, type DevicePrompt } from './oidc-client.js';

/** Lets real I/O run while fake time moves on in small steps, until `promise` settles. */
async function settle<T>(promise: Promise<T>): Promise<T> {
  let done = false;
  promise.then(() => (done = true), () => (done = true));
  for (let steps = 0; !done && steps < 5_000; steps++) {
    for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
    vi.advanceTimersByTime(100);
  }
  return promise;
}

describe('device authorization grant', () => {
  let fake: FakeIssuer;
  let client: OidcClient;
  const prompts: DevicePrompt[] = [];

  beforeEach(async () => {
    fake = await startFakeIssuer();
    client = await OidcClient.discover({ issuer: fake.issuer, clientId: fake.clientId, allowHttp: true });
    prompts.length = 0;
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
  });
  afterEach(async () => {
    vi.useRealTimers();
    await fake.close();
  });

  it('shows the code, polls every interval while pending, 5 s slower after slow_down, and returns the tokens', async () => {
    fake.answers = [{ error: 'authorization_pending' }, { error: 'slow_down' }, { error: 'authorization_pending' }, { username: 'jean', refreshToken: 'r-1' }];
    const started = Date.now();
    const tokens = await settle(client.device((p) => prompts.push(p)));
    expect(prompts).toEqual([expect.objectContaining({ userCode: 'ABCD-EFGH', verificationUri: `${fake.issuer}/device-login`, expiresIn: 600 })]);
    expect(tokens.refreshToken).toBe('r-1');
    expect(await client.verify(tokens.idToken)).toMatchObject({ username: 'jean' });
    expect(fake.requests.map((r) => [r.grantType, r.params.get('device_code')])).toEqual(
      Array(4).fill(['urn:ietf:params:oauth:grant-type:device_code', 'device-code-1']),
    );
    // PKCE: the polls prove the verifier whose S256 challenge started the login.
    const started0 = fake.deviceRequests[0];
    expect(started0?.get('code_challenge_method')).toBe('S256');
    const verifier = fake.requests[0]?.params.get('code_verifier') ?? '';
    expect(createHash('sha256').update(verifier).digest('base64url')).toBe(started0?.get('code_challenge'));
    // Seconds between the start and each poll: at least 1, then 1, then 6 (slow_down adds 5), 6.
    // Lower bounds: fake time also moves while a poll's real I/O is in flight, so on a busy
    // machine a gap can come out longer, never shorter; a client that ignored slow_down
    // would poll again after 1 s.
    const times = [started, ...fake.requests.map((r) => r.at)];
    const gaps = times.slice(1).map((t, i) => (t - (times[i] as number)) / 1000);
    expect(gaps).toHaveLength(4);
    for (const [i, least] of [1, 1, 6, 6].entries()) expect(gaps[i]).toBeGreaterThanOrEqual(least);
  });

  it('stops with a clear message when the code expires', async () => {
    fake.answers = [{ error: 'authorization_pending' }, { error: 'expired_token' }];
    const error = await settle(client.device((p) => prompts.push(p))).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LoginError);
    expect((error as LoginError).code).toBe('expired_token');
    expect((error as Error).message).toMatch(/not entered in time; run the command again/);
    expect(fake.requests).toHaveLength(2);
  });

  it('stops when the login is refused in the browser', async () => {
    fake.answers = [{ error: 'access_denied' }];
    const error = await settle(client.device((p) => prompts.push(p))).catch((e: unknown) => e);
    expect((error as LoginError).code).toBe('access_denied');
    expect((error as Error).message).toMatch(/refused in the browser/);
  });
});
