// What kubelogin does with the realm's public client, done by hand in a headless Chromium:
// the authorization code flow with PKCE S256, answered on kubelogin's callback
// (http://localhost:8000); the apiserver takes the ID token. The client refuses the same
// login without PKCE, and never sends a code to a callback it does not list.
import { createHash, randomBytes } from 'node:crypto';
import { AuthenticationV1Api } from '@kubernetes/client-node';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emailOf, randomSuffix, uniqueUsername } from '../helpers/names.js';
import { kubeConfigForToken } from '../helpers/oidc.js';
import { createKeycloakUser, deleteKeycloakUser, eventually, stackEnv, stackFetch } from '../helpers/stack.js';

const CHROMIUM = '/usr/bin/chromium';
const ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

describe("the login client allows kubelogin's browser login, and only with PKCE to its callback", () => {
  let browser: Browser;
  const username = uniqueUsername('t-kl');
  const password = `Pw-${randomSuffix(8)}-x9`;
  let userId = '';
  const issuer = () => stackEnv('OIDC_ISSUER_URL');
  const clientId = () => stackEnv('KEYCLOAK_LOGIN_CLIENT_ID');

  beforeAll(async () => {
    userId = await createKeycloakUser({ username, email: emailOf(username), password });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
  });
  afterAll(async () => {
    await browser?.close();
    if (userId) await deleteKeycloakUser(userId);
  });

  /** Starts a login as kubelogin would; resolves to the URL Keycloak redirected to on `callback`, or to the page's text if it did not. */
  async function authorize(params: Record<string, string>, callback: string): Promise<{ redirected?: URL; page?: string }> {
    // The stack's CA is not the browser's (the test's HTTP client checks it).
    const page: Page = await browser.newPage({ ignoreHTTPSErrors: true });
    let redirected: URL | undefined;
    // Nothing listens on the callback (kubelogin would): the browser's request to it is
    // recorded, and fails. (page.route does not see requests a redirect makes.)
    page.on('request', (request) => {
      const url = new URL(request.url());
      if (url.origin === callback) redirected = url;
    });
    const reachedCallback = (error: unknown) => {
      if (!redirected) throw error;
    };
    try {
      const query = new URLSearchParams({ client_id: clientId(), response_type: 'code', scope: 'openid', state: randomSuffix(), nonce: randomSuffix(), ...params });
      await page.goto(`${issuer()}/protocol/openid-connect/auth?${query}`).catch(reachedCallback);
      if (!redirected && (await page.locator('#username').count()) > 0) {
        await page.fill('#username', username);
        await page.fill('#password', password);
        await page.click('#kc-login');
        await page.waitForLoadState().catch(reachedCallback);
        // Not reaching it is for the assertions to report, with the page's text.
        await eventually('the redirect to the callback', async () => redirected, 15_000).catch(() => undefined);
      }
      return redirected ? { redirected } : { page: await page.locator('body').innerText() };
    } finally {
      await page.close();
    }
  }

  it('code flow with PKCE S256 on http://localhost:8000: the apiserver takes the ID token', async () => {
    const verifier = randomBytes(32).toString('base64url');
    const challenge = createHash('sha256').update(verifier).digest('base64url');
    const { redirected } = await authorize({ redirect_uri: 'http://localhost:8000', code_challenge: challenge, code_challenge_method: 'S256' }, 'http://localhost:8000');
    const code = redirected?.searchParams.get('code');
    expect(code, redirected?.toString()).toBeTruthy();
    const token = await stackFetch(`${issuer()}/protocol/openid-connect/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'authorization_code', client_id: clientId(), code: code as string, redirect_uri: 'http://localhost:8000', code_verifier: verifier }).toString(),
    });
    const body = (await token.json()) as { id_token?: string; error?: string };
    expect(token.status, body.error).toBe(200);
    const review = await kubeConfigForToken(body.id_token as string).makeApiClient(AuthenticationV1Api)
      .createSelfSubjectReview({ body: { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' } });
    expect(review.status?.userInfo?.username).toBe(`${issuer()}#${userId}`);
  }, 180_000);

  it('the fallback callback :18000 is listed too', async () => {
    const challenge = createHash('sha256').update(randomBytes(32).toString('base64url')).digest('base64url');
    const { redirected } = await authorize({ redirect_uri: 'http://localhost:18000', code_challenge: challenge, code_challenge_method: 'S256' }, 'http://localhost:18000');
    expect(redirected?.searchParams.get('code')).toBeTruthy();
  }, 180_000);

  it('without PKCE, no code: Keycloak answers invalid_request', async () => {
    const { redirected } = await authorize({ redirect_uri: 'http://localhost:8000' }, 'http://localhost:8000');
    expect(redirected?.searchParams.get('code')).toBeNull();
    expect(redirected?.searchParams.get('error')).toBe('invalid_request');
    expect(redirected?.searchParams.get('error_description')).toMatch(/code_challenge_method/);
  }, 180_000);

  it('a callback the client does not list never gets a code, not even a redirect', async () => {
    const challenge = createHash('sha256').update(randomBytes(32).toString('base64url')).digest('base64url');
    const result = await authorize({ redirect_uri: 'http://localhost:9999/steal', code_challenge: challenge, code_challenge_method: 'S256' }, 'http://localhost:9999');
    expect(result.redirected).toBeUndefined();
    expect(result.page).toMatch(/Invalid parameter: redirect_uri/);
  }, 180_000);
});
