// P2 end-to-end creates: trainees fully provisioned per second (POST /provisioner through
// the API, a worker process, Keycloak + Kubernetes + Grafana) vs Keycloak alone creating
// users with a password (admin REST, same realm, same concurrency as the worker).
// Both sides are warmed up first, not timed (the end-to-end creates with as many trainees
// as are timed, so the worker's JavaScript is compiled as in a worker that has been running:
// with a batch only as large as the concurrency, most of the timed creates ran in V8's
// interpreter and baseline tiers, at 20-30% more worker CPU per trainee), and
// the CPU every process spends is charged to the users made: on a machine where Keycloak,
// the apiserver, the Grafana stand-in and the worker share the cores, the sum bounds the rate.
// A third figure, Keycloak alone serving a create job's calls, shows the bound where
// Keycloak has its own cores.
// Everything created is deleted afterwards (trainees through the API, users directly).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fetch } from 'undici';
import { createAdapters } from '@kup/adapters';
import { workerEnv } from '@kup/core';
import { cpuSince, cpuSnapshot, dropPrefix, env, eventually, freePort, keycloakAdminToken, pool, round, stackAgent, stackPids, startChild } from './lib.js';

export interface CreateFigures {
  creates: number;
  concurrency: number;
  e2ePerSecond: number;
  keycloakPerSecond: number;
  failed: number;
  /** CPU milliseconds per trainee, by process (stack services, api, worker), during the timed creates. */
  cpuMsPerTrainee?: Record<string, number>;
  /** CPU milliseconds per user, by stack service, while Keycloak alone made its users. */
  keycloakOnlyCpuMsPerUser?: Record<string, number>;
  /** Users/s when the only load is a create job's Keycloak calls (create, the one-write provisioned mark), through the worker's adapter. */
  keycloakJobCallsPerSecond?: number;
  /** Each round's job calls rate against the bare creates' of the same round, in order. */
  keycloakRoundRatios?: number[];
  /** CPU milliseconds per user, by stack service, for those calls. */
  keycloakJobCallsCpuMsPerUser?: Record<string, number>;
}

const perItem = (cpu: Record<string, number>, count: number): Record<string, number> =>
  Object.fromEntries(Object.entries(cpu).map(([name, seconds]) => [name, round((seconds * 1000) / count)]));

const admin = (path: string) => `${env('KEYCLOAK_URL')}/admin/realms/${env('KEYCLOAK_REALM')}${path}`;

async function createKeycloakUsers(token: string, usernames: readonly string[], concurrency: number): Promise<string[]> {
  const ids: string[] = [];
  await pool(usernames, concurrency, async (username) => {
    const res = await fetch(admin('/users'), {
      method: 'POST',
      dispatcher: stackAgent(),
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        username,
        email: `${username}@bench.example`,
        enabled: true,
        attributes: { 'managed-by': ['k8s-provisioner-bench'] },
        credentials: [{ type: 'password', value: `Bench-${username}-9x!`, temporary: false }],
      }),
    });
    if (res.status !== 201) throw new Error(`keycloak create ${username}: ${res.status}`);
    ids.push(String(res.headers.get('location')).split('/').pop() as string);
  });
  return ids;
}

/**
 * Keycloak alone, two ways: bare creates of a user with a password (the P2 baseline), and
 * the calls a create job makes to Keycloak, through the worker's own adapter (create with
 * password, then the final `provisioned` mark with the Grafana id: one write of the user as
 * created; a first attempt looks nothing up). After a warm-up of each, they alternate
 * ROUNDS times, each first in half of them, so that neither gains more from the JVM
 * warming up; each figure is the mean of its rounds. Nothing else loads
 * the machine meanwhile, so the second figure is the rate Keycloak allows the provisioner
 * when it has its cores to itself, as in production.
 */
async function keycloakOnly(tag: string, count: number, concurrency: number): Promise<KeycloakAlone> {
  const token = await keycloakAdminToken();
  const { identity, close } = createAdapters(workerEnv.parse(process.env), { caFile: env('STACK_CA_FILE') });
  const ids: string[] = [];
  const names = (kind: string, n: number) => Array.from({ length: n }, (_, i) => `${tag}-${kind}-${i}`);
  const perRound = count * ROUND_SIZE;
  const bare = async (kind: string, n = perRound) => {
    ids.push(...(await createKeycloakUsers(token, names(kind, n), concurrency)));
  };
  const asJobs = async (kind: string, n = perRound) => {
    await pool(names(kind, n), concurrency, async (username, index) => {
      const created = { username, email: `${username}@bench.example`, firstName: undefined, lastName: undefined, expiresAt: new Date(Date.now() + 86_400_000).toISOString() };
      const id = await identity.createUser({ ...created, password: `Bench-${username}-9x!` });
      ids.push(id);
      await identity.setCreatedProvisioned(id, created, 1000 + index);
    });
  };
  const pids = stackPids();
  const timed = async (work: () => Promise<void>) => {
    const before = cpuSnapshot(pids);
    const started = performance.now();
    await work();
    return { seconds: (performance.now() - started) / 1000, cpu: cpuSince(before, pids) };
  };
  try {
    await bare('kcw', concurrency);
    await asJobs('kjw', concurrency);
    const rounds = { bare: [] as Timed[], jobs: [] as Timed[] };
    // Each side goes first in half the rounds: the one that runs second inherits what the
    // first left Keycloak to do (its garbage, its cache evictions).
    for (let n = 1; n <= ROUNDS; n++) {
      const pair = [() => timed(() => bare(`kc${n}`)).then((run) => rounds.bare.push(run)), () => timed(() => asJobs(`kj${n}`)).then((run) => rounds.jobs.push(run))];
      for (const side of n % 2 === 1 ? pair : pair.reverse()) await side();
    }
    const rate = (runs: Timed[]) => (perRound * runs.length) / runs.reduce((sum, run) => sum + run.seconds, 0);
    const cpu = (runs: Timed[]) => perItem(Object.fromEntries(Object.keys(pids).map((name) => [name, runs.reduce((sum, run) => sum + (run.cpu[name] ?? 0), 0)])), perRound * runs.length);
    const roundRatios = rounds.jobs.map((run, n) => round((rounds.bare[n] as Timed).seconds / run.seconds, 2));
    return { perSecond: rate(rounds.bare), cpuMsPerUser: cpu(rounds.bare), jobsPerSecond: rate(rounds.jobs), jobsCpuMsPerUser: cpu(rounds.jobs), roundRatios };
  } finally {
    await pool(ids, 4, async (id) => {
      await identity.deleteUser(id);
    });
    await close();
  }
}

/**
 * Rounds of each Keycloak-alone measurement, and their size in multiples of the creates'
 * count: 120 users (the default) last three to four seconds. Rounds of 40 gave ratios from
 * 0.71 to 1.42 within one run (Keycloak's own collections and background work land in
 * whichever round is running), and means from 0.80 to 0.98 between runs of the same code.
 */
const ROUNDS = 8;
const ROUND_SIZE = 3;

interface Timed {
  seconds: number;
  cpu: Record<string, number>;
}

interface KeycloakAlone {
  perSecond: number;
  cpuMsPerUser: Record<string, number>;
  jobsPerSecond: number;
  roundRatios: number[];
  jobsCpuMsPerUser: Record<string, number>;
}

export async function benchCreates(tag: string, count: number, concurrency: number): Promise<CreateFigures> {
  const prefix = `bench-p2-${tag}`;
  const token = env('API_TOKENS').split(',')[0] as string;
  const apiPort = await freePort();
  const base = `http://127.0.0.1:${apiPort}`;
  const api = await startChild('apps/api/dist/main.js', { PORT: String(apiPort), HOST: '127.0.0.1', QUEUE_PREFIX: prefix }, /listening/i, 'p2-api');
  // BENCH_WORKER_CPU_PROF=<dir>: the worker writes a V8 CPU profile there when it stops (`node --cpu-prof`),
  // and the bench the span of the timed creates in the profile's clock: `bench/cpu-profile.ts` reads both.
  const profileDir = process.env.BENCH_WORKER_CPU_PROF;
  if (profileDir) mkdirSync(profileDir, { recursive: true });
  const profile: Record<string, string> = profileDir ? { NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${profileDir}` } : {};
  const worker = await startChild('apps/worker/dist/main.js', { QUEUE_PREFIX: prefix, WORKER_CONCURRENCY: String(concurrency), WORKER_HEALTH_PORT: '0', ...profile }, /worker started/, 'p2-worker');
  const warmup = Array.from({ length: count }, (_, i) => `${tag}-e2w-${i}`);
  const timed = Array.from({ length: count }, (_, i) => `${tag}-e2e-${i}`);
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${base}${path}`, { method, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, ...(body ? { body: JSON.stringify(body) } : {}) });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  // Polls only the jobs not yet seen finished, so that polling costs the API little.
  const finished = async (verb: 'create' | 'delete', usernames: readonly string[]) => {
    const pending = new Set(usernames);
    let failed = 0;
    await eventually(`all ${verb}s finished`, async () => {
      for (const username of [...pending]) {
        const { body } = await call('GET', `/jobs/${verb}-${username}`);
        if (body.state !== 'completed' && body.state !== 'failed') return undefined;
        if (body.state === 'failed') failed += 1;
        pending.delete(username);
      }
      return true;
    }, Math.max(600_000, count * 20_000), 100);
    return failed;
  };

  const createAll = async (usernames: readonly string[]) => {
    for (const username of usernames) {
      const { status } = await call('POST', '/provisioner', { email: `${username}@bench.example` });
      if (status !== 202) throw new Error(`create ${username}: ${status}`);
    }
    return finished('create', usernames);
  };

  try {
    await createAll(warmup);
    const pids = { ...stackPids(), api: api.process.pid as number, worker: worker.process.pid as number };
    const before = cpuSnapshot(pids);
    const started = performance.now();
    const fromUs = Number(process.hrtime.bigint() / 1000n);
    const failed = await createAll(timed);
    if (profileDir) writeFileSync(join(profileDir, 'p2-timed-window.json'), JSON.stringify({ fromUs, toUs: Number(process.hrtime.bigint() / 1000n) }));
    const e2ePerSecond = count / ((performance.now() - started) / 1000);
    const cpuMsPerTrainee = perItem(cpuSince(before, pids), count);

    const keycloak = await keycloakOnly(tag, count, concurrency);

    const everyone = [...warmup, ...timed];
    for (const username of everyone) await call('DELETE', '/provisioner', { email: `${username}@bench.example` });
    await finished('delete', everyone);
    return {
      creates: count,
      concurrency,
      e2ePerSecond: round(e2ePerSecond, 2),
      keycloakPerSecond: round(keycloak.perSecond, 2),
      failed,
      cpuMsPerTrainee,
      keycloakOnlyCpuMsPerUser: keycloak.cpuMsPerUser,
      keycloakJobCallsPerSecond: round(keycloak.jobsPerSecond, 2),
      keycloakRoundRatios: keycloak.roundRatios,
      keycloakJobCallsCpuMsPerUser: keycloak.jobsCpuMsPerUser,
    };
  } finally {
    await worker.stop();
    await api.stop();
    await dropPrefix(prefix);
  }
}
