// P5 scale in users: with `small` and then `large` managed users in the realm (the cached
// P5 users, marked managed for the measurement only), the time per user of a cleanup dry
// run and a sync dry run over all of them through the API (scoped with `usernamePrefix`),
// and of paging through them with `GET /trainees`; and the worker's peak RSS at each size.
// The small size's runs are short, so each of its figures is the median of three runs.
// Same API and worker processes for both sizes. A route or flag the API under test does not
// have (its OpenAPI says) is reported as not measured, with the reason.
import { fetch } from 'undici';
import { withCleanup } from './cleanup.js';
import { dropPrefix, env, eventually, freePort, ROOT, round, sampleRss, startChild, stackAgent, type Child } from './lib.js';
import { nodeFlagsFor } from './node-flags.js';
import { markIdle, markManaged, P5_PREFIX, realmAdminToken, topUp } from './p5-users.js';

type Measure = 'syncMs' | 'cleanupMs' | 'traineesMs';

export interface ScaleRun {
  users: number;
  syncMs?: number;
  cleanupMs?: number;
  traineesMs?: number;
  /** Why a figure is absent. */
  missing: Partial<Record<Measure, string>>;
  /** The worker's peak RSS while it ran this size's fleet runs. */
  workerRssPeakMb: number;
  /** The same, per run: which of them sets the peak. */
  workerRssPeaksMb?: Partial<Record<Measure, number>>;
  /** Each run's time where a size was measured more than once (its figure is their median). */
  timesMs?: Partial<Record<Measure, number[]>>;
}

/** Runs of each measure at the small size: they are short (5–18 s) and move between runs. */
const SMALL_REPEATS = 3;

export interface ScaleFigures {
  small: ScaleRun;
  large: ScaleRun;
  /** Users made this run (the rest were cached in the realm). */
  seeded: number;
  seedSeconds: number;
}

interface Api {
  call(method: string, path: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }>;
}

/**
 * Empties Keycloak's user cache (its admin API's `clear-user-cache`). Keycloak keeps up to
 * 10,000 users in it by default: 2,000 users just listed are all served from memory, 20,000
 * never are, and a listing of them costs Keycloak about 2.7 times as much per user (849
 * against 2,286 µs on 2026-11-27). Every timed run starts with it empty, so both sizes
 * start alike; they do not fit alike (a sync's per-user reads find 2,000 users in the
 * cache and 20,000 mostly not: docs/benchmarks.md, P5).
 */
async function clearKeycloakUserCache(): Promise<void> {
  const res = await fetch(`${env('KEYCLOAK_URL')}/admin/realms/${env('KEYCLOAK_REALM')}/clear-user-cache`, {
    method: 'POST',
    dispatcher: stackAgent(),
    headers: { authorization: `Bearer ${await realmAdminToken()}` },
  });
  if (!res.ok) throw new Error(`clear Keycloak's user cache: ${res.status}`);
  await res.body?.cancel();
}

/** What the API under test offers: `GET /trainees` and its page limit, a dry-run flag on `POST /sync`. */
async function capabilities(api: Api): Promise<{ trainees?: number; syncDryRun: boolean }> {
  const { body } = await api.call('GET', '/docs/json');
  const doc = body as { paths?: Record<string, { get?: { parameters?: { name: string; schema?: { maximum?: number } }[] } }>; components?: { schemas?: Record<string, { properties?: Record<string, unknown> }> } };
  const list = doc.paths?.['/trainees']?.get;
  const limit = list?.parameters?.find((p) => p.name === 'limit')?.schema?.maximum;
  const syncRequest = doc.components?.schemas?.SyncRequest;
  return { ...(list ? { trainees: limit ?? 50 } : {}), syncDryRun: Boolean(syncRequest?.properties?.dryRun) };
}

/** Starts a fleet run and waits for its parent job; returns its duration in ms. */
async function fleetRun(api: Api, path: '/cleanup' | '/sync', body: unknown): Promise<number> {
  const started = performance.now();
  const { status, body: accepted } = await api.call('POST', path, body);
  if (status !== 202) throw new Error(`POST ${path}: ${status} ${JSON.stringify(accepted)}`);
  const view = await eventually(`${path} finished`, async () => {
    const { body: job } = await api.call('GET', `/jobs/${String(accepted.jobId)}`);
    return job.state === 'completed' || job.state === 'failed' ? job : undefined;
  }, 3_600_000, 200);
  if (view.state !== 'completed') throw new Error(`${path} ${String(view.state)}: ${JSON.stringify(view.error)}`);
  return performance.now() - started;
}

/** Pages through `GET /trainees?prefix=…` and checks it saw every user; returns the time in ms. */
async function listAll(api: Api, limit: number, users: number): Promise<number> {
  const started = performance.now();
  let seen = 0;
  let cursor: string | null = null;
  do {
    const query: Record<string, string> = { prefix: P5_PREFIX, limit: String(limit), ...(cursor ? { cursor } : {}) };
    const { status, body } = await api.call('GET', `/trainees?${new URLSearchParams(query).toString()}`);
    if (status !== 200) throw new Error(`GET /trainees: ${status} ${JSON.stringify(body)}`);
    seen += (body.items as unknown[]).length;
    cursor = body.nextCursor as string | null;
  } while (cursor);
  if (seen !== users) throw new Error(`GET /trainees listed ${seen} of ${users} trainees`);
  return performance.now() - started;
}

async function measureSize(api: Api, worker: Child, users: number, repeats: number, can: { trainees?: number; syncDryRun: boolean }, log: (line: string) => void): Promise<ScaleRun> {
  const rss = sampleRss(worker.process.pid as number);
  const peaks: Partial<Record<Measure, number>> = {};
  const run: ScaleRun = { users, missing: {}, workerRssPeakMb: 0, workerRssPeaksMb: peaks };
  /** Times `repeats` runs (Keycloak's cache emptied before each), keeps their median and the worker's peak RSS. */
  const timed = async (measure: Measure, what: string, work: () => Promise<number>) => {
    const times: number[] = [];
    for (let i = 1; i <= repeats; i++) {
      log(`  ${users} users: ${what}${repeats > 1 ? ` (${i} of ${repeats})` : ''}…`);
      await clearKeycloakUserCache();
      rss.phase();
      try {
        times.push(round(await work()));
      } finally {
        // From the size's own samples: a spike shorter than the 200 ms between samples is seen by both or by neither.
        peaks[measure] = Math.max(peaks[measure] ?? 0, round(rss.phase()));
        log(`    ${round((times.at(-1) ?? 0) / 1000)} s, worker RSS peak ${peaks[measure]} MB`);
      }
    }
    run[measure] = median(times);
    if (repeats > 1) run.timesMs = { ...run.timesMs, [measure]: times };
  };
  try {
    await timed('cleanupMs', 'cleanup dry run', () => fleetRun(api, '/cleanup', { dryRun: true, usernamePrefix: P5_PREFIX }));
    if (can.syncDryRun) await timed('syncMs', 'sync dry run', () => fleetRun(api, '/sync', { dryRun: true, usernamePrefix: P5_PREFIX }));
    else run.missing.syncMs = 'POST /sync has no dry-run flag (a real sync would make every namespace)';
    if (can.trainees !== undefined) await timed('traineesMs', 'GET /trainees, every page', () => listAll(api, can.trainees as number, users));
    else run.missing.traineesMs = 'route missing (GET /trainees)';
  } finally {
    run.workerRssPeakMb = round(rss.stop().peakMb);
  }
  return run;
}

export async function benchScale(tag: string, small: number, large: number, log: (line: string) => void): Promise<ScaleFigures> {
  if (small >= large) throw new Error('--p5-small must be below --p5-large');
  const started = performance.now();
  log(`  topping up the cached P5 users (${P5_PREFIX}…) to ${large}…`);
  const seeded = await topUp(large);
  const seedSeconds = round((performance.now() - started) / 1000);
  log(`  made ${seeded} users in ${seedSeconds} s`);
  const prefix = `bench-p5-${tag}`;
  const token = env('API_TOKENS').split(',')[0] as string;
  let managed = 0;
  let apiChild: Child | undefined;
  let worker: Child | undefined;
  const cleanup = async () => {
    await worker?.stop();
    await apiChild?.stop();
    if (managed > 0) {
      log(`  marking the ${managed} P5 users idle again…`);
      await markIdle(managed);
    }
    await dropPrefix(prefix);
  };
  return withCleanup(cleanup, async () => {
    const port = await freePort();
    apiChild = await startChild('apps/api/dist/main.js', { PORT: String(port), HOST: '127.0.0.1', QUEUE_PREFIX: prefix }, /listening/i, 'p5-api');
    const schedules = { RESET_SCHEDULE_ENABLED: 'false', CLEANUP_SCHEDULE_ENABLED: 'false', SYNC_SCHEDULE_ENABLED: 'false' };
    // BENCH_P5_TRACE_GC=1: the worker logs each garbage collection with its heap sizes (`--trace-gc`, in p5-worker.log).
    const flags = [...nodeFlagsFor(ROOT, 'apps/worker/dist/main.js'), ...(process.env.BENCH_P5_TRACE_GC === '1' ? ['--trace-gc'] : [])];
    worker = await startChild('apps/worker/dist/main.js', { QUEUE_PREFIX: prefix, WORKER_HEALTH_PORT: '0', ...schedules }, /worker started/, 'p5-worker', flags);
    const api: Api = {
      async call(method, path, body) {
        const res = await fetch(`http://127.0.0.1:${port}${path}`, { method, headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) }, ...(body ? { body: JSON.stringify(body) } : {}) });
        return { status: res.status, body: (await res.json()) as Record<string, unknown> };
      },
    };
    const can = await capabilities(api);
    const runs: ScaleRun[] = [];
    for (const users of [small, large]) {
      const marking = performance.now();
      const from = managed;
      // Counted before marking: a run stopped half-way through the marks still marks them all idle again.
      managed = users;
      await markManaged(from, users);
      log(`  marked users ${from}…${users - 1} managed in ${round((performance.now() - marking) / 1000)} s`);
      // An untimed run first, so that the small size does not pay for the worker's first fleet run.
      if (runs.length === 0) await fleetRun(api, '/cleanup', { dryRun: true, usernamePrefix: P5_PREFIX });
      runs.push(await measureSize(api, worker, users, users === small ? SMALL_REPEATS : 1, can, log));
    }
    return { small: runs[0] as ScaleRun, large: runs[1] as ScaleRun, seeded, seedSeconds };
  });
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[middle] as number) : round(((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2);
}
