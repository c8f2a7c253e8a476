// The kubeconfig a trainee is handed, used as they would: the real kubectl runs our
// `provisioner credential` plugin (password grant, as scripts log in), which logs in to the
// stack's Keycloak; the apiserver takes the ID token. It works in the trainee's namespace
// and nowhere else; a tampered or expired token is refused by the apiserver and the plugin
// does not hand one out again; a second kubectl reuses the cached token without a login.
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kubeconfigSettingsFrom, renderKubeconfig, type KubeconfigSettings } from '@kup/core';
import {
  createShortLivedClient, keycloakSessionCount, kubectlAs, provisionerShimDir, realmAdmin,
} from '../helpers/kubeconfig-plugin.js';
import { emailOf, randomSuffix, uniqueUsername } from '../helpers/names.js';
import { createConfigMapAs } from '../helpers/oidc.js';
import { ensureTraineeClusterRole, eventually, findKeycloakUser } from '../helpers/stack.js';
import { testWorker, waitForJob, type TestWorker } from '../helpers/worker.js';

interface Trainee { username: string; password: string; userId: string }

describe("a trainee's kubeconfig with the provisioner plugin", () => {
  let w: TestWorker;
  let settings: KubeconfigSettings;
  const binDir = provisionerShimDir();
  const home = mkdtempSync(join(tmpdir(), 'kup-kubeconfig-'));
  const alice = uniqueUsername('t-kc');
  const bob = uniqueUsername('t-kc');
  const trainees = new Map<string, Trainee>();
  const shortClient = `kup-test-short-${randomSuffix()}`;
  let shortClientId: string | undefined;

  const create = async (username: string) => {
    const job = await w.addCreate({ username, email: emailOf(username) });
    const { state, job: done } = await waitForJob(w.queue, job.id as string, 150_000);
    expect(state, done.failedReason).toBe('completed');
    const user = await findKeycloakUser(username);
    trainees.set(username, { username, password: (await w.passwordOf(done)) as string, userId: user?.id as string });
  };
  const trainee = (username: string) => trainees.get(username) as Trainee;

  /** The trainee's kubeconfig file and the env of their terminal (a cache of their own). */
  const terminal = (username: string, s: KubeconfigSettings = settings) => {
    const dir = mkdtempSync(join(home, `${username}-`));
    const kubeconfig = join(dir, 'config');
    writeFileSync(kubeconfig, renderKubeconfig(s, { username, namespace: username }));
    const env = { XDG_CACHE_HOME: join(dir, 'cache'), PROVISIONER_PASSWORD: trainee(username).password };
    const kubectl = (args: string[]) => kubectlAs(args, { kubeconfig, binDir, env });
    const cacheDir = join(dir, 'cache', 'provisioner', 'credentials');
    const cacheFile = () => join(cacheDir, readdirSync(cacheDir)[0] as string);
    const cachedIdToken = () => (JSON.parse(readFileSync(cacheFile(), 'utf8')) as { idToken: string }).idToken;
    return { kubectl, cacheDir, cacheFile, cachedIdToken, kubeconfig };
  };

  beforeAll(async () => {
    await ensureTraineeClusterRole();
    w = await testWorker();
    const fromEnv = kubeconfigSettingsFrom(w.config);
    if (!fromEnv) throw new Error('the stack env sets CLUSTER_SERVER_URL: kubeconfig settings expected');
    settings = fromEnv;
    await Promise.all([create(alice), create(bob)]);
  }, 300_000);

  afterAll(async () => {
    if (shortClientId) await realmAdmin(`/clients/${shortClientId}`, { method: 'DELETE' }).catch(() => undefined);
    for (const username of trainees.keys()) {
      const job = await w?.addDelete({ usernames: [username] }).catch(() => undefined);
      if (job?.id) await waitForJob(w.queue, job.id, 150_000).catch(() => undefined);
    }
    await w?.close();
  }, 320_000);

  it('creates a ConfigMap in the trainee\'s namespace (the default one) and is Forbidden in another trainee\'s', async () => {
    const t = terminal(alice);
    const created = await t.kubectl(['create', 'configmap', 'from-kubectl', '--from-literal=hello=world']);
    expect(created.code, created.stderr).toBe(0);
    expect(created.stdout).toMatch(/configmap\/from-kubectl created/);
    const read = await t.kubectl(['get', 'configmap', 'from-kubectl', '-n', alice, '-o', 'jsonpath={.data.hello}']);
    expect(read.stdout).toBe('world');

    const elsewhere = await t.kubectl(['create', 'configmap', 'intruder', '-n', bob, '--from-literal=x=y']);
    expect(elsewhere.code).not.toBe(0);
    expect(elsewhere.stderr).toMatch(/forbidden/i);
    expect(elsewhere.stderr).toMatch(new RegExp(`cannot create resource "configmaps".*in the namespace "${bob}"`));
    expect((await t.kubectl(['get', 'configmaps', '-n', bob])).stderr).toMatch(/forbidden/i);
  }, 240_000);

  it('keeps the tokens in a 0600 file in a 0700 directory, and the kubeconfig holds no secret', async () => {
    const t = terminal(alice);
    expect((await t.kubectl(['get', 'configmaps'])).code).toBe(0);
    expect(statSync(t.cacheFile()).mode & 0o777).toBe(0o600);
    expect(statSync(t.cacheDir).mode & 0o777).toBe(0o700);
    const kubeconfig = readFileSync(t.kubeconfig, 'utf8');
    expect(kubeconfig).not.toContain(trainee(alice).password);
    expect(kubeconfig).not.toMatch(/token|client-key|password/i);
  }, 180_000);

  it('a second kubectl reuses the cached token: no new login, no new Keycloak session', async () => {
    const t = terminal(bob);
    const sessionsBefore = await keycloakSessionCount(trainee(bob).userId);
    expect((await t.kubectl(['get', 'configmaps'])).code).toBe(0);
    const first = t.cachedIdToken();
    expect(await keycloakSessionCount(trainee(bob).userId)).toBe(sessionsBefore + 1);

    const again = await t.kubectl(['create', 'configmap', 'second-call', '--from-literal=a=b']);
    expect(again.code, again.stderr).toBe(0);
    expect(t.cachedIdToken()).toBe(first);
    expect(await keycloakSessionCount(trainee(bob).userId)).toBe(sessionsBefore + 1);
  }, 180_000);

  it('a tampered token is refused by the apiserver; the plugin refreshes instead of handing it out', async () => {
    const t = terminal(alice);
    expect((await t.kubectl(['get', 'configmaps'])).code).toBe(0);
    const genuine = t.cachedIdToken();
    const [head, payload, signature] = genuine.split('.') as [string, string, string];
    const tampered = `${head}.${payload}.${signature.startsWith('A') ? 'B' : 'A'}${signature.slice(1)}`;
    expect(await createConfigMapAs(genuine, alice, `genuine-${randomSuffix(3)}`)).toBe(201);
    expect(await createConfigMapAs(tampered, alice, `tampered-${randomSuffix(3)}`)).toBe(401);

    const sessions = await keycloakSessionCount(trainee(alice).userId);
    writeFileSync(t.cacheFile(), JSON.stringify({ ...JSON.parse(readFileSync(t.cacheFile(), 'utf8')), idToken: tampered }));
    const after = await t.kubectl(['create', 'configmap', 'after-tamper', '--from-literal=a=b']);
    expect(after.code, after.stderr).toBe(0);
    const healed = t.cachedIdToken();
    expect([tampered, genuine]).not.toContain(healed);
    // Refreshed, not a new login.
    expect(await keycloakSessionCount(trainee(alice).userId)).toBe(sessions);
  }, 180_000);

  it('an expired token is refused by the apiserver; the plugin refreshes it', async () => {
    // A client of the test's own whose tokens live 20 s (the realm's live minutes).
    shortClientId = await createShortLivedClient(shortClient, 20);
    const t = terminal(bob, { ...settings, clientId: shortClient });
    expect((await t.kubectl(['get', 'configmaps'])).code).toBe(0);
    const first = t.cachedIdToken();
    const { exp } = JSON.parse(Buffer.from(first.split('.')[1] as string, 'base64url').toString()) as { exp: number };
    expect(exp * 1000 - Date.now()).toBeLessThan(21_000);
    // Past its exp (and the apiserver's short cache of good tokens), the token is refused.
    await eventually('the apiserver refuses the expired token', async () => {
      const status = await createConfigMapAs(first, bob, `expired-${randomSuffix(3)}`);
      return status === 401 ? status : undefined;
    }, 90_000, 1_000);
    expect(Date.now()).toBeGreaterThan(exp * 1000);

    const sessions = await keycloakSessionCount(trainee(bob).userId);
    const after = await t.kubectl(['create', 'configmap', 'after-expiry', '--from-literal=a=b']);
    expect(after.code, after.stderr).toBe(0);
    expect(t.cachedIdToken()).not.toBe(first);
    expect(await keycloakSessionCount(trainee(bob).userId)).toBe(sessions);
  }, 240_000);

  it('a password Keycloak refuses fails the kubectl call with the reason, never the password', async () => {
    const t = terminal(alice);
    const wrong = await kubectlAs(['get', 'configmaps'], { kubeconfig: t.kubeconfig, binDir, env: { XDG_CACHE_HOME: join(home, 'empty-cache'), PROVISIONER_PASSWORD: 'not-the-password-1' } });
    expect(wrong.code).not.toBe(0);
    expect(wrong.stderr).toMatch(/password login failed: the username or password was refused/);
    expect(wrong.stderr).not.toContain('not-the-password-1');
  }, 180_000);
});
