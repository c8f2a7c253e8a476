// biome-ignore-all lint/suspicious/noTemplateCurlyInString: '${...}' here are Keycloak message keys, literal text
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { http, type HttpResponse } from './http.js';
import { cachePath, stackPath, versions } from './paths.js';
import { pki } from './pki.js';
import { delay, log, run } from './process.js';
import { bytesIn, reportProgress } from './progress.js';
import type { Server, StackContext } from './server.js';
import { ensureLoginClient, ensureUserProfile, keycloakNames, realmRepresentation } from './keycloak-realm.js';

export { declaredAttributes, keycloakNames, realmRepresentation } from './keycloak-realm.js';

export const keycloakUrl = (ctx: StackContext): string => `https://127.0.0.1:${ctx.ports.keycloak}`;
export const issuerUrl = (ctx: StackContext): string => `${keycloakUrl(ctx)}/realms/${keycloakNames.realm}`;

export const keycloakHome = (): string => cachePath(`keycloak-${versions.keycloak}`);
const kcSh = (): string => `${keycloakHome()}/bin/kc.sh`;

/** Size of the distribution zip (26.5.5: 164,609,382 bytes); only for the progress line's estimate. */
const KEYCLOAK_ZIP_BYTES = 165e6;

/** Fetches org.keycloak:keycloak-quarkus-dist with Maven and unzips it into the cache, once. */
export async function ensureKeycloakDist(): Promise<void> {
  if (existsSync(kcSh())) return;
  const downloads = cachePath('downloads');
  const zip = `${downloads}/keycloak-quarkus-dist-${versions.keycloak}.zip`;
  mkdirSync(downloads, { recursive: true });
  if (!existsSync(zip)) {
    log(`keycloak: fetching org.keycloak:keycloak-quarkus-dist:${versions.keycloak}:zip from Maven Central (about 165 MB)`);
    // Maven downloads into its local repository first (default ~/.m2/repository): watch it grow.
    const m2 = join(homedir(), '.m2', 'repository', 'org', 'keycloak', 'keycloak-quarkus-dist', versions.keycloak);
    const stop = reportProgress('keycloak: downloading', () => bytesIn(m2, '.zip'), KEYCLOAK_ZIP_BYTES, { name: 'MB', size: 1e6 });
    try {
      await run('mvn', ['-q', '-B',
        'org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy',
        `-Dartifact=org.keycloak:keycloak-quarkus-dist:${versions.keycloak}:zip`,
        `-DoutputDirectory=${downloads}`], downloads);
    } finally {
      stop();
    }
    if (!existsSync(zip)) throw new Error('keycloak: mvn did not fetch the distribution');
  }
  log('keycloak: unpacking');
  const tmp = cachePath(`keycloak-${versions.keycloak}.unpack`);
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  await run('unzip', ['-q', zip, '-d', tmp]);
  rmSync(keycloakHome(), { recursive: true, force: true });
  renameSync(`${tmp}/keycloak-${versions.keycloak}`, keycloakHome());
  rmSync(tmp, { recursive: true, force: true });
}

const ca = (): Buffer => readFileSync(pki.caCert());

export const realmFile = (): string => stackPath('keycloak', 'import', `${keycloakNames.realm}-realm.json`);

export async function adminToken(ctx: StackContext): Promise<string> {
  const res = await http(`${keycloakUrl(ctx)}/realms/master/protocol/openid-connect/token`, {
    method: 'POST', ca: ca(),
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'password', client_id: 'admin-cli',
      username: ctx.secrets.keycloakAdminUser, password: ctx.secrets.keycloakAdminPassword,
    }).toString(),
    timeoutMs: 60_000,
  });
  if (res.status !== 200) throw new Error(`keycloak: admin login failed: ${res.status} ${res.body}`);
  return (JSON.parse(res.body) as { access_token: string }).access_token;
}

function admin(ctx: StackContext, token: string, method: string, path: string, body?: unknown): Promise<HttpResponse> {
  return http(`${keycloakUrl(ctx)}/admin/realms${path}`, {
    method, ca: ca(),
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
    timeoutMs: 60_000,
  });
}

/**
 * Imports the realm when it is missing and puts its user profile (our attributes, who may edit
 * what) and login client right.
 * Retried: right after start, on a loaded machine, Keycloak's first requests can be very slow.
 */
export async function ensureRealm(ctx: StackContext): Promise<void> {
  const deadline = Date.now() + 180_000;
  for (let attempt = 1; ; attempt++) {
    try {
      return await ensureRealmOnce(ctx);
    } catch (error) {
      if (Date.now() > deadline) throw error;
      log(`keycloak: realm setup attempt ${attempt} failed (${(error as Error).message}); retrying`);
      await delay(2_000);
    }
  }
}

async function ensureRealmOnce(ctx: StackContext): Promise<void> {
  const token = await adminToken(ctx);
  const realm = `/${keycloakNames.realm}`;
  const existing = await admin(ctx, token, 'GET', realm);
  if (existing.status === 404) {
    log(`keycloak: importing realm ${keycloakNames.realm} from ${realmFile()}`);
    const created = await admin(ctx, token, 'POST', '', JSON.parse(readFileSync(realmFile(), 'utf8')));
    if (created.status !== 201) throw new Error(`keycloak: realm import failed: ${created.status} ${created.body}`);
  } else if (existing.status !== 200) {
    throw new Error(`keycloak: GET realm: ${existing.status} ${existing.body}`);
  }
  const call = (method: string, path: string, body?: unknown) => admin(ctx, token, method, path, body);
  await ensureUserProfile(call, log);
  await ensureLoginClient(call, log);
}

export const keycloak: Server = {
  name: 'keycloak',
  marker: `keycloak-${versions.keycloak}/`,
  readyTimeoutMs: 300_000,
  stopGraceMs: 30_000,
  ports: (ctx) => [ctx.ports.keycloak, ctx.ports.keycloakHttp, ctx.ports.keycloakManagement],
  async prepare(ctx) {
    await ensureKeycloakDist();
    mkdirSync(stackPath('keycloak', 'import'), { recursive: true });
    writeFileSync(realmFile(), JSON.stringify(realmRepresentation(ctx), null, 2) + '\n', { mode: 0o600 });
    return {
      name: 'keycloak',
      command: kcSh(),
      args: [
        'start-dev',
        '--db=dev-file',
        '--http-enabled=false',
        '--http-host=127.0.0.1',
        `--http-port=${ctx.ports.keycloakHttp}`,
        `--https-port=${ctx.ports.keycloak}`,
        `--https-certificate-file=${pki.cert('keycloak')}`,
        `--https-certificate-key-file=${pki.key('keycloak')}`,
        `--hostname=${keycloakUrl(ctx)}`,
        `--http-management-port=${ctx.ports.keycloakManagement}`,
        '--health-enabled=true',
      ],
      env: {
        KC_BOOTSTRAP_ADMIN_USERNAME: ctx.secrets.keycloakAdminUser,
        KC_BOOTSTRAP_ADMIN_PASSWORD: ctx.secrets.keycloakAdminPassword,
        // The dev-file H2 database lives in .stack/keycloak/data/h2, not in the cached distribution.
        JAVA_OPTS_APPEND: `-Dkc.db-url-path=${stackPath('keycloak')}`,
        JAVA_OPTS_KC_HEAP: '-Xms64m -Xmx1024m',
      },
    };
  },
  ready: async (ctx) => {
    const res = await http(`https://127.0.0.1:${ctx.ports.keycloakManagement}/health/ready`, { ca: ca() });
    return res.status === 200;
  },
  afterReady: ensureRealm,
  where: (ctx) => `${keycloakUrl(ctx)} (realm ${keycloakNames.realm}, admin console ${keycloakUrl(ctx)}/admin/)`,
};
