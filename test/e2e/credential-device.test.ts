// `provisioner credential` logging in with the device authorization grant against the stack's
// Keycloak, the verification step done in a real headless Chromium as the trainee would on
// their phone: the code's page, the login form, Keycloak's consent. The apiserver takes the
// token it prints; a refusal in the browser, or a login as someone else, fails it clearly.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuthenticationV1Api } from '@kubernetes/client-node';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emailOf, randomSuffix, uniqueUsername } from '../helpers/names.js';
import { kubeConfigForToken } from '../helpers/oidc.js';
import { repoRoot } from '../helpers/service-account-kubeconfig.js';
import { createKeycloakUser, deleteKeycloakUser, stackEnv } from '../helpers/stack.js';

const CHROMIUM = '/usr/bin/chromium';
const ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

interface Plugin { link: Promise<string>; done: Promise<{ code: number | null; stdout: string; stderr: string }>; child: ChildProcess }

/** Runs the plugin as kubectl would (no password in its env: the device grant). */
function plugin(username: string): Plugin {
  const env: NodeJS.ProcessEnv = { ...process.env, XDG_CACHE_HOME: mkdtempSync(join(tmpdir(), 'kup-device-')), KUBERNETES_EXEC_INFO: JSON.stringify({ apiVersion: 'client.authentication.k8s.io/v1', kind: 'ExecCredential', spec: { interactive: true } }) };
  delete env.PROVISIONER_PASSWORD;
  const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', 'apps/cli/src/main.ts', 'credential',
    '--issuer', stackEnv('OIDC_ISSUER_URL'), '--client-id', stackEnv('KEYCLOAK_LOGIN_CLIENT_ID'), '--username', username], { cwd: repoRoot, env });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c) => (stdout += String(c)));
  const link = new Promise<string>((resolve, reject) => {
    child.stderr.on('data', (c) => {
      stderr += String(c);
      const found = /\(or open (\S+) directly\)/.exec(stderr);
      if (found?.[1]) resolve(found[1]);
    });
    child.on('close', () => reject(new Error(`the plugin ended without a link: ${stderr}`)));
  });
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
  return { link, done, child };
}

describe('provisioner credential: the device authorization grant against Keycloak', () => {
  let browser: Browser;
  const password = `Pw-${randomSuffix(8)}-x9`;
  const users: { username: string; id: string }[] = [];
  const running: ChildProcess[] = [];

  beforeAll(async () => {
    for (const username of [uniqueUsername('t-dev'), uniqueUsername('t-dev')]) {
      users.push({ username, id: await createKeycloakUser({ username, email: emailOf(username), password }) });
    }
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
  });
  afterAll(async () => {
    for (const child of running) child.kill();
    await browser?.close();
    for (const user of users) await deleteKeycloakUser(user.id);
  });

  /** Opens the link, signs in as `who`, and answers Keycloak's consent with Yes or No. */
  async function verify(link: string, who: string, consent: 'accept' | 'cancel'): Promise<string> {
    // The stack's CA is not the browser's: only the browser skips the check, the plugin does not.
    const page = await browser.newPage({ ignoreHTTPSErrors: true });
    try {
      await page.goto(link);
      await page.fill('#username', who);
      await page.fill('#password', password);
      await page.click('#kc-login');
      await page.click(consent === 'accept' ? '#kc-login' : '#kc-cancel');
      await page.waitForLoadState();
      return await page.locator('body').innerText();
    } finally {
      await page.close();
    }
  }

  it('prints an ExecCredential whose token the apiserver takes as the trainee', async () => {
    const [user] = users as [{ username: string; id: string }];
    const p = plugin(user.username);
    running.push(p.child);
    const link = await p.link;
    expect(link).toMatch(new RegExp(`^${stackEnv('OIDC_ISSUER_URL')}/device\\?user_code=[A-Z]{4}-[A-Z]{4}$`));
    expect(await verify(link, user.username, 'accept')).toMatch(/Device Login Successful/);
    const { code, stdout, stderr } = await p.done;
    expect(code, stderr).toBe(0);
    const credential = JSON.parse(stdout) as { kind: string; status: { token: string; expirationTimestamp: string } };
    expect(credential.kind).toBe('ExecCredential');
    const review = await kubeConfigForToken(credential.status.token).makeApiClient(AuthenticationV1Api)
      .createSelfSubjectReview({ body: { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' } });
    expect(review.status?.userInfo?.username).toBe(`${stackEnv('OIDC_ISSUER_URL')}#${user.id}`);
  }, 180_000);

  it('a refusal in the browser ends the plugin with the reason', async () => {
    const [user] = users as [{ username: string; id: string }];
    const p = plugin(user.username);
    running.push(p.child);
    await verify(await p.link, user.username, 'cancel');
    const { code, stdout, stderr } = await p.done;
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).toMatch(/device login failed: the login was refused in the browser/);
  }, 180_000);

  it('a login as another user than the kubeconfig names is refused', async () => {
    const [user, other] = users as [{ username: string; id: string }, { username: string; id: string }];
    const p = plugin(user.username);
    running.push(p.child);
    await verify(await p.link, other.username, 'accept');
    const { code, stdout, stderr } = await p.done;
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).toContain(`you logged in as ${other.username}, but this kubeconfig is for ${user.username}`);
  }, 180_000);
});
