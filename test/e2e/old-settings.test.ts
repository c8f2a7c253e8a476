// The old deployment redeployed as it was: api and worker started as operators run them
// (`node apps/*/src/main.ts`), with nothing but ENV_FILE pointing at a dotenv file written in
// the old service's names (as the Vault agent wrote /vault/secrets/config): VERIFICATION_TOKEN
// (shorter than our minimum), KEYCLOAK_BASE_URL with `/auth/`, GRAFANA_USER, GRAFANA_PASSWORD,
// KUBE_CONFIG as JSON. Both boot with a warning per old name, never showing a value, and a
// trainee is created and deleted through them against the stack's real servers.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { emailOf, uniquePrefix, uniqueUsername } from '../helpers/names.js';
import { eventually } from '../helpers/poll.js';
import { ensureTraineeClusterRole, findGrafanaUser, findKeycloakUser, getNamespace, stackEnv } from '../helpers/stack.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const OLD_TOKEN = `old${randomBytes(3).toString('hex')}`; // 9 characters: under the new minimum of 16

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

interface Started {
  child: ChildProcess;
  output: string[];
}

/** Starts `apps/<app>/src/main.ts` with only `env` (no stack variables), resolves once `ready` is logged. */
async function start(app: 'api' | 'worker', env: Record<string, string>, ready: string): Promise<Started> {
  const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', `apps/${app}/src/main.ts`], {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', NODE_EXTRA_CA_CERTS: stackEnv('NODE_EXTRA_CA_CERTS'), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  child.stdout?.on('data', (chunk) => output.push(String(chunk)));
  child.stderr?.on('data', (chunk) => output.push(String(chunk)));
  await eventually(`${app} started`, async () => {
    if (child.exitCode !== null) throw new Error(`${app} exited: ${output.join('')}`);
    return output.join('').includes(ready) ? true : undefined;
  }, 90_000);
  return { child, output };
}

async function stop(started: Started | undefined): Promise<void> {
  if (!started || started.child.exitCode !== null) return;
  const exited = new Promise((resolve) => started.child.once('exit', resolve));
  started.child.kill('SIGTERM');
  const timer = setTimeout(() => started.child.kill('SIGKILL'), 20_000);
  await exited;
  clearTimeout(timer);
}

describe('the old deployment\'s settings file, unchanged', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kup-old-env-'));
  const envFile = join(dir, 'config');
  const queuePrefix = uniquePrefix('old-env');
  const secrets = {
    keycloak: stackEnv('KEYCLOAK_CLIENT_SECRET'),
    grafana: stackEnv('GRAFANA_ADMIN_PASSWORD'),
    key: randomBytes(32).toString('base64'),
  };
  let api: Started | undefined;
  let worker: Started | undefined;
  let url = '';

  beforeAll(async () => {
    await ensureTraineeClusterRole();
    const kubeconfig = JSON.stringify(parse(readFileSync(stackEnv('KUBECONFIG'), 'utf8')));
    writeFileSync(
      envFile,
      [
        `export VERIFICATION_TOKEN=${OLD_TOKEN}`,
        `KEYCLOAK_BASE_URL=${stackEnv('KEYCLOAK_URL').replace(/\/+$/, '')}/auth/`,
        `KEYCLOAK_REALM=${stackEnv('KEYCLOAK_REALM')}`,
        `KEYCLOAK_CLIENT_ID=${stackEnv('KEYCLOAK_CLIENT_ID')}`,
        `KEYCLOAK_CLIENT_SECRET=${secrets.keycloak}`,
        `GRAFANA_URL=${stackEnv('GRAFANA_URL')}`,
        `GRAFANA_USER=${stackEnv('GRAFANA_ADMIN_USER')}`,
        `GRAFANA_PASSWORD='${secrets.grafana}'`,
        `KUBE_CONFIG='${kubeconfig}'`,
        // What the old pod did not have: the queue and the key sealing passwords.
        `REDIS_URL=${stackEnv('REDIS_URL')}`,
        `RESULT_ENCRYPTION_KEY=${secrets.key}`,
        '',
      ].join('\n'),
      { mode: 0o600 },
    );
    // ALLOW_INSECURE_UPSTREAMS: the local stack's Grafana speaks plain HTTP (the old file is
    // left as it was; a real deployment's upstreams are https://).
    const common = { ENV_FILE: envFile, QUEUE_PREFIX: queuePrefix, LOG_LEVEL: 'info', ALLOW_INSECURE_UPSTREAMS: 'true' };
    const port = await freePort();
    [worker, api] = await Promise.all([
      start('worker', { ...common, WORKER_HEALTH_PORT: '0', RESET_SCHEDULE_ENABLED: 'false', CLEANUP_SCHEDULE_ENABLED: 'false' }, 'worker started'),
      start('api', { ...common, PORT: String(port), HOST: '127.0.0.1' }, 'Server listening'),
    ]);
    url = `http://127.0.0.1:${port}`;
  }, 180_000);

  afterAll(async () => {
    await Promise.all([stop(api), stop(worker)]);
    rmSync(dir, { recursive: true, force: true });
  });

  it('both boot with one warning per old name, naming the new one, and no value', () => {
    const apiLog = api?.output.join('') ?? '';
    const workerLog = worker?.output.join('') ?? '';
    expect(apiLog).toContain('VERIFICATION_TOKEN is the old service\'s name for API_TOKENS');
    expect(apiLog).toContain('VERIFICATION_TOKEN is shorter than 16 characters: accepted only because it comes through the old name');
    for (const [old, now] of [['KEYCLOAK_BASE_URL', 'KEYCLOAK_URL'], ['GRAFANA_USER', 'GRAFANA_ADMIN_USER'], ['GRAFANA_PASSWORD', 'GRAFANA_ADMIN_PASSWORD']]) {
      expect(workerLog).toContain(`${old} is the old service's name for ${now}`);
    }
    expect(workerLog).toContain('KUBE_CONFIG (a kubeconfig in the variable) is the old service\'s setting');
    for (const value of [OLD_TOKEN, secrets.keycloak, secrets.grafana, secrets.key]) {
      expect(apiLog).not.toContain(value);
      expect(workerLog).not.toContain(value);
    }
  });

  it('the old token, the old way, creates and deletes a trainee in Keycloak, Kubernetes and Grafana', async () => {
    const username = uniqueUsername('t-old-env');
    const call = (method: string) =>
      fetch(`${url}/provisioner`, {
        method,
        headers: { authorization: OLD_TOKEN, 'content-type': 'application/json', prefer: 'wait=60' },
        body: JSON.stringify({ email: emailOf(username) }),
      });
    const created = await call('POST');
    expect(created.status, await created.clone().text()).toBe(200);
    expect(await created.json()).toMatchObject({ message: 'User has been successfully created', username });
    expect((await findKeycloakUser(username))?.attributes).toMatchObject({ provisioned: ['true'] });
    expect(await getNamespace(username)).toBeDefined();
    expect((await findGrafanaUser(username))?.login).toBe(username);

    const deleted = await call('DELETE');
    expect(deleted.status, await deleted.clone().text()).toBe(200);
    expect(await findKeycloakUser(username)).toBeUndefined();
    expect(await findGrafanaUser(username)).toBeUndefined();
  }, 120_000);

  it('the worker checks at start-up that the trainee ClusterRole exists (k8s/base does not ship it)', async () => {
    await eventually('the ClusterRole check', async () => (worker?.output.join('').includes('trainee ClusterRole found') ? true : undefined), 30_000);
  });

  it('a wrong token is still refused', async () => {
    const res = await fetch(`${url}/schedules`, { headers: { authorization: `${OLD_TOKEN}x` } });
    expect(res.status).toBe(401);
  });
});
