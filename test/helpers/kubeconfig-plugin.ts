// The trainee's side of a kubeconfig: the real kubectl, running our `provisioner credential`
// plugin (from source, through a `provisioner` shim on PATH) with a cache directory of the
// test's own; and the stack's Keycloak admin, for what the provisioner's own client may not do.
import { execFile } from 'node:child_process';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Response } from 'undici';
import { KUBECTL, repoRoot, type KubectlResult } from './service-account-kubeconfig.js';
import { keycloakAdmin, stackEnv, stackFetch } from './stack.js';

/** A directory holding a `provisioner` command that runs the CLI from source. */
export function provisionerShimDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'kup-bin-'));
  const shim = join(dir, 'provisioner');
  const main = join(repoRoot, 'apps', 'cli', 'src', 'main.ts');
  // --import tsx resolves from the working directory: kubectl runs the plugin from repoRoot.
  writeFileSync(shim, `#!/bin/sh\nexec "${process.execPath}" --conditions=source --import tsx "${main}" "$@"\n`);
  chmodSync(shim, 0o755);
  return dir;
}

/** kubectl with `env` added to this process's (PATH first gets `binDir`); never throws on a non-zero exit. */
export function kubectlAs(args: string[], opts: { kubeconfig: string; binDir: string; env?: Record<string, string> }): Promise<KubectlResult> {
  const env = { ...process.env, ...opts.env, PATH: `${opts.binDir}:${process.env.PATH ?? ''}` };
  return new Promise((done, fail) => {
    execFile(KUBECTL, ['--kubeconfig', opts.kubeconfig, ...args], { cwd: repoRoot, env, timeout: 90_000 }, (error, stdout, stderr) => {
      if (error && typeof error.code !== 'number') return fail(error);
      done({ code: error ? Number(error.code) : 0, stdout, stderr });
    });
  });
}

/** The user's active Keycloak sessions: a password or device login opens one, a refresh does not. */
export async function keycloakSessionCount(userId: string): Promise<number> {
  const response = await keycloakAdmin(`/users/${userId}/sessions`);
  if (!response.ok) throw new Error(`user sessions: ${response.status}`);
  return ((await response.json()) as unknown[]).length;
}

/** The admin REST of the stack's realm as the master realm's bootstrap admin (tests only: clients). */
export async function realmAdmin(path: string, init: { method?: string; json?: unknown } = {}): Promise<Response> {
  const base = stackEnv('KEYCLOAK_URL').replace(/\/+$/, '');
  const login = await stackFetch(`${base}/realms/master/protocol/openid-connect/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'password', client_id: 'admin-cli', username: stackEnv('KEYCLOAK_ADMIN_USER'), password: stackEnv('KEYCLOAK_ADMIN_PASSWORD') }).toString(),
  });
  if (!login.ok) throw new Error(`master admin login: ${login.status}`);
  const { access_token: token } = (await login.json()) as { access_token: string };
  return stackFetch(`${base}/admin/realms/${stackEnv('KEYCLOAK_REALM')}${path}`, {
    method: init.method ?? 'GET',
    headers: { authorization: `Bearer ${token}`, ...(init.json === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(init.json === undefined ? {} : { body: JSON.stringify(init.json) }),
  });
}

/**
 * A public client of the test's own whose tokens live `lifespanSeconds` and whose ID tokens
 * also name the apiserver's client as audience, so the apiserver takes them: how a test gets
 * a genuinely expired token without waiting for the realm's lifespan. Returns its id for deletion.
 */
export async function createShortLivedClient(clientId: string, lifespanSeconds: number): Promise<string> {
  const response = await realmAdmin('/clients', {
    method: 'POST',
    json: {
      clientId,
      publicClient: true,
      standardFlowEnabled: false,
      directAccessGrantsEnabled: true,
      attributes: { 'access.token.lifespan': String(lifespanSeconds) },
      protocolMappers: [{
        name: 'apiserver audience', protocol: 'openid-connect', protocolMapper: 'oidc-audience-mapper',
        config: { 'included.client.audience': stackEnv('KEYCLOAK_LOGIN_CLIENT_ID'), 'id.token.claim': 'true', 'access.token.claim': 'true' },
      }],
    },
  });
  if (response.status !== 201) throw new Error(`create client: ${response.status} ${await response.text()}`);
  return String(response.headers.get('location')).split('/').pop() as string;
}
