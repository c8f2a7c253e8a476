// P3 reset: N trainee namespaces, seeded as the provisioner leaves them (namespace and
// fittings applied through the core's plan and adapter, for a provisioned Keycloak user
// each, so the fleet run finds it) plus two ConfigMaps of the trainee's each, emptied by the
// old algorithm; then seeded again (the old algorithm also deletes the limit range and
// network policy) and emptied by `POST /reset {mode: purge}` (the same work: empty in
// place, keep quota and RBAC), run as a fleet flow by a worker process. Both on the same
// apiserver; the run is scoped to the bench's users with `usernamePrefix`. Our reset runs
// once per worker RBAC, by default twice in the same run: with the stack's admin kubeconfig,
// and with the ServiceAccount token of k8s/base's worker RBAC, which we ship (of what the
// inventory lists it may list ServiceAccounts only). P3_WORKER_RBAC picks others (a list of admin, shipped, inventory:
// the latter adds k8s/components/purge-inventory, which lists all but Secrets).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fetch } from 'undici';
import { createAdapters, type Adapters } from '@kup/adapters';
import { applyPlayground, fleetSettings, MANAGED_BY, traineeOf, workerEnv, type FleetSettings } from '@kup/core';
import { KubeRaw, oldReset } from './old-reset.js';
import { workerServiceAccountKubeconfig } from '../test/helpers/service-account-kubeconfig.js';
import { deleteKeycloakUsers, keycloakUserIds, withCleanup } from './cleanup.js';
import { cpuSince, cpuSnapshot, dropPrefix, stackQuiet, env, eventually, freePort, keycloakAdminToken, LOG_DIR, pool, round, stackAgent, stackPids, startChild } from './lib.js';

/** One `POST /reset` purge of the seeded namespaces, by a worker with the given rights. */
export interface ResetRun {
  newSeconds: number;
  newResult: unknown;
  /** Namespaces the worker emptied by the inventory's fast path (the rest took the full path). */
  fastPath: number;
  /** Delete-collections our reset sent, from the worker's `namespace purged` lines (the old algorithm's are `oldRequests`). */
  deleteCollections?: number;
  /** Whose rights the worker had: the stack admin's, k8s/base's worker ClusterRole, or that plus purge-inventory. */
  workerRbac: WorkerRbac;
  /** CPU per namespace, by process tree (stack servers, api, worker), from the POST to the parent's completion: steadier than wall time on shared cores. */
  cpuMsPerNamespace?: Record<string, number>;
}

/** The old algorithm once, then our reset once per worker RBAC (the first in the top-level fields). */
export interface ResetFigures extends ResetRun {
  namespaces: number;
  oldSeconds: number;
  oldRequests: number;
  /** The old algorithm's CPU per namespace, by process tree (stack servers, and the bench process that runs it). */
  oldCpuMsPerNamespace?: Record<string, number>;
  /** Further runs of our reset in the same run, with other worker rights (the shipped RBAC). */
  also?: ResetRun[];
}

const CONFIGMAPS_PER_NAMESPACE = 2;

async function keycloak(method: string, path: string, token: string, body?: unknown) {
  return fetch(`${env('KEYCLOAK_URL')}/admin/realms/${env('KEYCLOAK_REALM')}${path}`, {
    method,
    dispatcher: stackAgent(),
    headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
}

/** The namespace and its fittings as a create leaves them, and the trainee's own ConfigMaps. */
async function seed(ports: Adapters, settings: FleetSettings, kube: KubeRaw, names: readonly string[]): Promise<void> {
  await pool(names, 8, async (ns) => {
    const user = await ports.identity.findUser(ns);
    if (!user) throw new Error(`keycloak user ${ns} not found`);
    await applyPlayground(ports.cluster, settings, traineeOf(user, undefined, settings.defaultExpiryDays));
    for (let i = 0; i < CONFIGMAPS_PER_NAMESPACE; i += 1) {
      const body = { metadata: { name: `bench-${i}`, labels: { 'bench-seed': 'p3' } }, data: { a: 'b' } };
      const { status } = await kube.send('POST', `/api/v1/namespaces/${ns}/configmaps`, body);
      if (status !== 201 && status !== 409) throw new Error(`configmap in ${ns}: ${status}`);
    }
  });
}

/** How many namespaces of the bench hold objects of a type (`/api/v1/configmaps?labelSelector=…`). */
async function namespacesWith(kube: KubeRaw, tag: string, path: string): Promise<number> {
  const { json } = await kube.send('GET', path);
  const items = (json as { items?: { metadata: { namespace: string } }[] }).items ?? [];
  return new Set(items.map((o) => o.metadata.namespace).filter((ns) => ns.startsWith(`${tag}-r-`))).size;
}

/** CPU seconds by process into ms per namespace, the processes that did nothing left out, with their sum as `total`. */
function perNamespace(cpu: Record<string, number>, count: number): Record<string, number> {
  const ms = Object.entries(cpu).map(([name, seconds]) => [name, round((seconds * 1000) / count, 2)] as const).filter(([, v]) => v > 0);
  return { ...Object.fromEntries(ms), total: round(ms.reduce((sum, [, v]) => sum + v, 0), 2) };
}

/** Whose rights the bench's worker has: the stack's admin, k8s/base's worker, or that plus k8s/components/purge-inventory. */
export type WorkerRbac = 'admin' | 'shipped' | 'inventory';

/** The worker rights P3 measures: P3_WORKER_RBAC names one (admin, shipped or inventory); by default admin and shipped. */
export function workerRbacsOf(value: string | undefined): WorkerRbac[] {
  if (value === undefined || value === '') return ['admin', 'shipped'];
  const rbacs = value.split(',').map((v) => v.trim());
  for (const rbac of rbacs) {
    if (rbac !== 'admin' && rbac !== 'shipped' && rbac !== 'inventory') throw new Error(`P3_WORKER_RBAC must list admin, shipped or inventory, not ${rbac}`);
  }
  return rbacs as WorkerRbac[];
}

/** Seeds the namespaces again, runs `POST /reset {mode: purge}` by a worker with `workerRbac`, checks what it left. */
async function ourReset(tag: string, count: number, workerRbac: WorkerRbac, reseed: () => Promise<void>, kube: KubeRaw, log: (line: string) => void): Promise<ResetRun> {
  await reseed();
  log(`  POST /reset {mode: purge}, worker with ${workerRbac} rights…`);
  const prefix = `bench-p3-${tag}`;
  const apiPort = await freePort();
  const api = await startChild('apps/api/dist/main.js', { PORT: String(apiPort), HOST: '127.0.0.1', QUEUE_PREFIX: prefix }, /listening/i, 'p3-api');
  let account: Awaited<ReturnType<typeof workerServiceAccountKubeconfig>> | undefined;
  let worker: Awaited<ReturnType<typeof startChild>> | undefined;
  try {
    account = workerRbac === 'admin'
      ? undefined
      : await workerServiceAccountKubeconfig({ adminKubeconfig: env('KUBECONFIG'), components: workerRbac === 'inventory' ? ['purge-inventory'] : [] });
    const logName = `p3-worker-${workerRbac}`;
    worker = await startChild('apps/worker/dist/main.js', {
      QUEUE_PREFIX: prefix,
      WORKER_HEALTH_PORT: '0',
      RESET_SCHEDULE_ENABLED: 'false',
      CLEANUP_SCHEDULE_ENABLED: 'false',
      ...(account ? { KUBECONFIG: account.kubeconfig } : {}),
    }, /worker started/, logName);
    const apiToken = env('API_TOKENS').split(',')[0] as string;
    const headers = { authorization: `Bearer ${apiToken}`, 'content-type': 'application/json' };
    const pids = { ...stackPids(), api: api.process.pid as number, worker: worker.process.pid as number };
    const cpuBefore = cpuSnapshot(pids);
    const started = performance.now();
    const res = await fetch(`http://127.0.0.1:${apiPort}/reset`, { method: 'POST', headers, body: JSON.stringify({ mode: 'purge', usernamePrefix: `${tag}-r-` }) });
    const { jobId } = (await res.json()) as { jobId: string };
    if (res.status !== 202) throw new Error(`POST /reset: ${res.status}`);
    const view = await eventually('reset finished', async () => {
      const status = (await (await fetch(`http://127.0.0.1:${apiPort}/jobs/${jobId}`, { headers })).json()) as { state: string; result?: unknown; error?: unknown };
      return status.state === 'completed' || status.state === 'failed' ? status : undefined;
    }, 3_600_000, 250);
    const newSeconds = (performance.now() - started) / 1000;
    const cpuMsPerNamespace = perNamespace(cpuSince(cpuBefore, pids), count);
    if (view.state !== 'completed') throw new Error(`reset ${view.state}: ${JSON.stringify(view.error)}`);
    const left = await namespacesWith(kube, tag, '/api/v1/configmaps?labelSelector=bench-seed%3Dp3');
    if (left > 0) throw new Error(`the reset left seeded ConfigMaps in ${left} namespaces`);
    for (const fitting of ['/api/v1/resourcequotas', '/api/v1/limitranges', '/apis/rbac.authorization.k8s.io/v1/rolebindings']) {
      const kept = await namespacesWith(kube, tag, fitting);
      if (kept !== count) throw new Error(`${fitting}: kept in ${kept} of ${count} namespaces`);
    }
    const { users_processed: processed, namespaces_reset: reset, failed_resets: failed } = (view.result ?? {}) as Record<string, unknown>;
    const workerLog = readFileSync(join(LOG_DIR, `${logName}.log`), 'utf8');
    const purged = workerLog.split('\n').filter((line) => line.includes('"msg":"namespace purged'));
    const fastPath = purged.filter((line) => line.includes('namespace purged (inventory)')).length;
    const deleteCollections = purged.reduce((sum, line) => sum + Number(/"types":(\d+)/.exec(line)?.[1] ?? 0), 0);
    return {
      newSeconds: round(newSeconds, 2),
      newResult: { users_processed: processed, namespaces_reset: reset, failed_resets: Array.isArray(failed) ? failed.length : failed },
      fastPath,
      deleteCollections,
      workerRbac,
      cpuMsPerNamespace,
    };
  } finally {
    await worker?.stop();
    await api.stop();
    await account?.cleanup();
    await dropPrefix(prefix);
  }
}

/**
 * Waits for a quiet Keycloak (bench/lib.ts, `stackQuiet`), so that a timed run does not pay
 * for the JVM's collection or compilation after the work before it (the seeding's creates,
 * the listing): a live realm does that between resets, not during one.
 */
async function keycloakQuiet(log: (line: string) => void): Promise<void> {
  if (!(await stackQuiet(['keycloak']))) log('  Keycloak was still busy after a minute; timing anyway');
}

/** Lists the managed users under `prefix` the way the reset's fan-out does (pages of a thousand), twice, off the clock. */
async function warmListing(ports: Adapters, prefix: string, count: number): Promise<void> {
  for (let pass = 0; pass < 2; pass++) {
    let seen = 0;
    for (let first: number | undefined = 0; first !== undefined; ) {
      const page = await ports.identity.listManaged(first, 1000, undefined, { usernameContains: prefix });
      seen += page.users.length;
      first = page.next;
    }
    if (seen < count) throw new Error(`Keycloak listed ${seen} of the ${count} seeded users`);
  }
}

export async function benchReset(tag: string, count: number, rbacs: readonly WorkerRbac[], log: (line: string) => void): Promise<ResetFigures> {
  const kube = new KubeRaw(env('KUBECONFIG'));
  const config = workerEnv.parse(process.env);
  const ports = createAdapters(config, { caFile: env('STACK_CA_FILE') });
  const settings = fleetSettings(config);
  const names = Array.from({ length: count }, (_, i) => `${tag}-r-${i}`);
  const cleanup = async () => {
    log('  cleaning up…');
    await deleteKeycloakUsers(await keycloakUserIds(`${tag}-r-`));
    await pool(names, 8, async (name) => void (await kube.send('DELETE', `/api/v1/namespaces/${name}`)));
    kube.close();
    await ports.close();
  };
  return withCleanup(cleanup, async () => {
    log(`  setting up ${count} namespaces and provisioned Keycloak users…`);
    let token = await keycloakAdminToken();
    await pool(names, 8, async (name) => {
      const body = { username: name, email: `${name}@bench.example`, enabled: true, attributes: { 'managed-by': [MANAGED_BY], provisioned: ['true'] } };
      let res = await keycloak('POST', '/users', token, body);
      if (res.status === 401) {
        token = await keycloakAdminToken();
        res = await keycloak('POST', '/users', token, body);
      }
      if (res.status !== 201) throw new Error(`keycloak user ${name}: ${res.status}`);
    });
    const reseed = () => seed(ports, settings, kube, names);
    await reseed();
    // The baseline starts as ours do: after the seeding, once Keycloak is quiet.
    await keycloakQuiet(log);

    log('  old algorithm…');
    const pids = { ...stackPids(), bench: process.pid };
    const cpuBefore = cpuSnapshot(pids);
    const started = performance.now();
    const oldRequests = await oldReset(kube, names);
    const oldSeconds = (performance.now() - started) / 1000;
    const oldCpuMsPerNamespace = perNamespace(cpuSince(cpuBefore, pids), count);
    log(`  old algorithm: CPU ms per namespace ${JSON.stringify(oldCpuMsPerNamespace)}`);

    // The old algorithm never asks Keycloak, but our reset begins by listing the managed users; Keycloak
    // just took 1,000 creates, and its first listing of them cost four times the next ones (6.3 against
    // 1.5 ms of CPU per namespace), which made the first of our runs pay for a cache a live realm has.
    log('  warming Keycloak\'s listing of the seeded users (untimed)…');
    await warmListing(ports, `${tag}-r-`, count);

    const runs: ResetRun[] = [];
    for (const rbac of rbacs) {
      const run = await ourReset(tag, count, rbac, async () => {
        await reseed();
        await keycloakQuiet(log);
      }, kube, log);
      log(`  ${rbac}: ${run.newSeconds} s, ${run.deleteCollections} delete-collections, CPU ms per namespace ${JSON.stringify(run.cpuMsPerNamespace)}`);
      runs.push(run);
    }
    const [first, ...also] = runs as [ResetRun, ...ResetRun[]];
    return { namespaces: count, oldSeconds: round(oldSeconds, 2), oldRequests, oldCpuMsPerNamespace, ...first, ...(also.length ? { also } : {}) };
  });
}
