import { execFileSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { grafana } from './grafana.js';
import { issuerUrl, keycloak, keycloakHome, keycloakNames, keycloakUrl } from './keycloak.js';
import {
  apiserver, buildControlPlane, controllerManager, controlPlaneBuilt, etcd, kubeconfigPath, writeKubeconfig,
} from './kubernetes.js';
import { stackDir, stackPath } from './paths.js';
import { ensurePki, pki } from './pki.js';
import { ensurePorts, readPorts } from './ports.js';
import { delay, isRunning, log, readPid, stopProcess } from './process.js';
import { redis } from './redis.js';
import { ensureSecrets, readSecrets } from './secrets.js';
import { ensureServer, type Server, type StackContext } from './server.js';

/** Every server, in start order. */
export const servers: Server[] = [redis, grafana, keycloak, etcd, apiserver, controllerManager];
/** Stop order: controller manager and apiserver before etcd. */
const stopOrder = ['kube-controller-manager', 'kube-apiserver', 'etcd', 'keycloak', 'grafana', 'redis'];

export interface EnsureStackOptions {
  /** Print progress (default true). */
  quiet?: boolean;
}

export interface EnsureStackResult {
  env: Record<string, string>;
  /** Names of the servers this call started (the others were running already). */
  startedByUs: string[];
}

export interface StopStackOptions {
  /** Only these servers (names as in `servers`); default all. */
  only?: string[];
  /** Also delete .stack/ (data, certificates, secrets, ports). Only with all servers. */
  wipe?: boolean;
}

export function stackEnv(ctx: StackContext): Record<string, string> {
  const ca = pki.caCert();
  return {
    REDIS_URL: `redis://127.0.0.1:${ctx.ports.redis}`,
    KUBECONFIG: kubeconfigPath(),
    KEYCLOAK_URL: keycloakUrl(ctx),
    KEYCLOAK_REALM: keycloakNames.realm,
    KEYCLOAK_CLIENT_ID: keycloakNames.clientId,
    KEYCLOAK_CLIENT_SECRET: ctx.secrets.keycloakClientSecret,
    KEYCLOAK_LOGIN_CLIENT_ID: keycloakNames.loginClientId,
    OIDC_ISSUER_URL: issuerUrl(ctx),
    // Trainees' kubeconfigs: the apiserver as they reach it, and its CA.
    CLUSTER_SERVER_URL: `https://127.0.0.1:${ctx.ports.apiserver}`,
    CLUSTER_CA_FILE: ca,
    GRAFANA_URL: `http://127.0.0.1:${ctx.ports.grafana}`,
    GRAFANA_PUBLIC_URL: `http://127.0.0.1:${ctx.ports.grafana}`,
    // The Grafana contract server speaks plain HTTP on loopback; production refuses http://.
    ALLOW_INSECURE_UPSTREAMS: 'true',
    GRAFANA_ADMIN_USER: ctx.secrets.grafanaAdminUser,
    GRAFANA_ADMIN_PASSWORD: ctx.secrets.grafanaAdminPassword,
    STACK_CA_FILE: ca,
    NODE_EXTRA_CA_CERTS: ca,
    KEYCLOAK_ADMIN_USER: ctx.secrets.keycloakAdminUser,
    KEYCLOAK_ADMIN_PASSWORD: ctx.secrets.keycloakAdminPassword,
    RESULT_ENCRYPTION_KEY: ctx.secrets.resultEncryptionKey,
    API_TOKENS: ctx.secrets.apiToken,
  };
}

export const formatEnv = (env: Record<string, string>): string =>
  Object.entries(env).map(([k, v]) => `${k}=${v}`).join('\n') + '\n';

function readContext(): StackContext | undefined {
  const ports = readPorts();
  const secrets = readSecrets();
  return ports && secrets ? { ports, secrets } : undefined;
}

/** The env of the stack as last brought up (from .stack/ports.json and .stack/secrets.json). */
export function readStackEnv(): Record<string, string> {
  const ctx = readContext();
  if (!ctx) throw new Error(`no local stack in ${stackDir()}: run 'npm run stack:up' first`);
  return stackEnv(ctx);
}

function has(command: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function checkPrerequisites(): void {
  const needed = ['redis-server', 'openssl', 'java', 'unzip'];
  if (!controlPlaneBuilt()) needed.push('go');
  if (!existsSync(keycloakHome())) needed.push('mvn');
  const missing = needed.filter((c) => !has(c));
  if (missing.length > 0) {
    throw new Error(
      `missing commands: ${missing.join(', ')}. Install them with:\n` +
        '  apt-get update && apt-get install -y redis-server openssl unzip default-jdk-headless maven golang\n' +
        '(.ci/run does this; Go must be recent enough for Kubernetes, see docs/local-stack.md)',
    );
  }
}

/** One `up` or `down` at a time per .stack/ (a second one waits). */
async function withLock<T>(fn: () => Promise<T>): Promise<T> {
  const lock = stackPath('up.lock');
  const deadline = Date.now() + 20 * 60_000;
  for (;;) {
    try {
      const fd = openSync(lock, 'wx');
      writeFileSync(fd, `${process.pid}\n`);
      closeSync(fd);
      break;
    } catch {
      const owner = Number.parseInt(existsSync(lock) ? readFileSync(lock, 'utf8') : '', 10);
      if (!Number.isInteger(owner) || !isRunning(owner, '')) {
        rmSync(lock, { force: true });
        continue;
      }
      if (Date.now() > deadline) throw new Error(`another stack:up (pid ${owner}) holds ${lock}`);
      await delay(500);
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(lock, { force: true });
  }
}

/** Brings the stack up (reusing what already runs) and waits until every server is ready. */
export async function ensureStack(opts: EnsureStackOptions = {}): Promise<EnsureStackResult> {
  const started = Date.now();
  mkdirSync(stackDir(), { recursive: true });
  return withLock(async () => {
    checkPrerequisites();
    const ctx: StackContext = { ports: await ensurePorts(), secrets: ensureSecrets() };
    ensurePki();
    writeKubeconfig(ctx);
    const env = stackEnv(ctx);
    writeFileSync(stackPath('env'), formatEnv(env), { mode: 0o600 });

    const startedByUs: string[] = [];
    const bring = async (server: Server) => {
      if (await ensureServer(server, ctx)) startedByUs.push(server.name);
    };
    // Keycloak takes about a minute: start it at once, beside the (cached) Go build.
    const keycloakUp = bring(keycloak);
    const etcdUp = buildControlPlane().then(() => bring(etcd));
    const others = Promise.all([bring(redis), bring(grafana)]);
    // The apiserver fetches the issuer's discovery document: start it once the realm exists.
    const kubernetesUp = Promise.all([keycloakUp, etcdUp]).then(async () => {
      await bring(apiserver);
      await bring(controllerManager);
    });
    const results = await Promise.allSettled([keycloakUp, etcdUp, others, kubernetesUp]);
    const failures = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failures.length > 0) {
      const messages = [...new Set(failures.map((f) => (f.reason as Error).message))];
      throw new Error(`stack:up failed:\n${messages.join('\n')}`);
    }
    if (!opts.quiet) {
      log(`stack ready in ${((Date.now() - started) / 1000).toFixed(1)}s` +
        (startedByUs.length ? ` (started: ${startedByUs.join(', ')})` : ' (everything was already running)'));
      printWhere(ctx);
    }
    return { env, startedByUs };
  });
}

function printWhere(ctx: StackContext): void {
  const lines = servers.map((s) => `  ${s.name.padEnd(24)} ${s.where(ctx)}`);
  process.stderr.write(`${lines.join('\n')}\n  env: ${stackPath('env')} (npm run stack:env)\n`);
}

/** Stops the servers this stack started (pid files); data stays unless `wipe`. */
export async function stopStack(opts: StopStackOptions = {}): Promise<string[]> {
  if (!existsSync(stackDir())) return [];
  // Under the same lock as ensureStack: a concurrent `up` (e.g. another test run) never sees half a stack.
  return withLock(() => stopLocked(opts));
}

async function stopLocked(opts: StopStackOptions): Promise<string[]> {
  const only = opts.only;
  const stopped: string[] = [];
  const stopOne = async (name: string) => {
    if (only && !only.includes(name)) return;
    const server = servers.find((s) => s.name === name);
    if (!server) return;
    if (await stopProcess(server.name, server.marker, server.stopGraceMs)) {
      log(`${name}: stopped`);
      stopped.push(name);
    }
  };
  const kube = (async () => {
    for (const name of stopOrder.slice(0, 3)) await stopOne(name);
  })();
  await Promise.all([kube, ...stopOrder.slice(3).map(stopOne)]);
  if (opts.wipe) {
    if (only) throw new Error('wipe needs all servers stopped');
    rmSync(stackDir(), { recursive: true, force: true });
    log(`wiped ${stackDir()}`);
  }
  return stopped;
}

export interface ServerStatus {
  name: string;
  pid?: number;
  running: boolean;
  ready: boolean;
  where?: string;
}

export async function stackStatus(): Promise<ServerStatus[]> {
  const ctx = readContext();
  return Promise.all(
    servers.map(async (server) => {
      const pid = readPid(server.name);
      const running = isRunning(pid, server.marker);
      const ready = running && ctx ? await server.ready(ctx).catch(() => false) : false;
      return { name: server.name, pid: running ? pid : undefined, running, ready, where: ctx ? server.where(ctx) : undefined };
    }),
  );
}

/**
 * Leases: a process that uses the stack (a test run) registers itself in .stack/leases/, so that
 * another run that started the stack does not stop it under its feet.
 */
export function addLease(pid = process.pid): void {
  mkdirSync(stackPath('leases'), { recursive: true });
  writeFileSync(stackPath('leases', String(pid)), `${new Date().toISOString()}\n`);
}

/** Drops this process's lease; returns the pids of the other live lease holders. */
export function releaseLease(pid = process.pid): number[] {
  const dir = stackPath('leases');
  rmSync(stackPath('leases', String(pid)), { force: true });
  if (!existsSync(dir)) return [];
  const others: number[] = [];
  for (const entry of readdirSync(dir)) {
    const other = Number.parseInt(entry, 10);
    if (Number.isInteger(other) && isRunning(other, '')) others.push(other);
    else rmSync(stackPath('leases', entry), { force: true });
  }
  return others;
}
