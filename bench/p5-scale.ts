// P5 scale in users: the time per user of a cleanup dry run and a sync dry run over all the
// managed users (scoped with `usernamePrefix`), and of paging through them with
// `GET /trainees`, with `small` and with `large` of them managed; and the worker's peak RSS
// at each size. Each size has a realm of its own holding the same users (p5-users.ts) and
// an API and a worker of its own, started alike; the two sizes' runs take turns, in rounds
// whose order alternates, so that whatever the machine does meanwhile lands on both, and
// each figure is the median of its size's rounds. A route or flag the API under test does
// not have (its OpenAPI says) is reported as not measured, with the reason.
import { fetch } from 'undici';
import { withCleanup } from './cleanup.js';
import { dropPrefix, env, eventually, freePort, median, ROOT, round, sampleRss, startChild, type Child } from './lib.js';
import { nodeFlagsFor } from './node-flags.js';
import { clearUserCache, ensureP5Realm, P5_PREFIX, p5Realm, type P5Realm } from './p5-users.js';

type Measure = 'syncMs' | 'cleanupMs' | 'traineesMs';

export interface ScaleRun {
  users: number;
  /** The realm this size was measured in (`kup-p5-<managed>-of-<users>`). */
  realm?: string;
  syncMs?: number;
  cleanupMs?: number;
  traineesMs?: number;
  /** Why a figure is absent. */
  missing: Partial<Record<Measure, string>>;
  /** The peak RSS of this size's worker over its fleet runs. */
  workerRssPeakMb: number;
  /** The same, per measure: which of them sets the peak. */
  workerRssPeaksMb?: Partial<Record<Measure, number>>;
  /** Each round's time, in the order run (the figure is their median). */
  timesMs?: Partial<Record<Measure, number[]>>;
}

/** Rounds of both sizes' runs; a figure is the median of its size's rounds. */
export const P5_ROUNDS = 3;

export interface ScaleFigures {
  small: ScaleRun;
  large: ScaleRun;
  /** Users made this run (the rest were kept in the P5 realms). */
  seeded: number;
  seedSeconds: number;
}

interface Api {
  call(method: string, path: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }>;
}

/** One size under test: its realm, and the API and worker that work in it. */
interface Side {
  realm: P5Realm;
  api: Api;
  worker: Child;
  rss: ReturnType<typeof sampleRss>;
  run: ScaleRun;
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

/**
 * Keycloak keeps up to 10,000 users in its user cache by default: 2,000 users just listed are
 * all served from memory, 20,000 never are (849 against 2,286 µs per user on 2026-11-27
 * without this). So every timed run starts with the cache of both realms emptied.
 */
async function timed(side: Side, others: readonly Side[], measure: Measure, what: string, work: () => Promise<number>, log: (line: string) => void): Promise<void> {
  const { run, rss } = side;
  log(`  ${run.users} users: ${what}…`);
  for (const { realm } of [side, ...others]) await clearUserCache(realm.name);
  rss.phase();
  const peaks = run.workerRssPeaksMb ?? {};
  run.workerRssPeaksMb = peaks;
  let time: number | undefined;
  try {
    time = round(await work());
    run.timesMs = { ...run.timesMs, [measure]: [...(run.timesMs?.[measure] ?? []), time] };
  } finally {
    // From this size's own samples: a spike shorter than the 200 ms between samples is seen by both or by neither.
    peaks[measure] = Math.max(peaks[measure] ?? 0, round(rss.phase()));
    log(`    ${round((time ?? 0) / 1000)} s, worker RSS peak ${peaks[measure]} MB`);
  }
}

/** One round of a size: its cleanup dry run, its sync dry run, its trainee listing. */
async function measureRound(side: Side, others: readonly Side[], can: { trainees?: number; syncDryRun: boolean }, log: (line: string) => void): Promise<void> {
  const { api, run } = side;
  const scope = { dryRun: true, usernamePrefix: P5_PREFIX };
  await timed(side, others, 'cleanupMs', 'cleanup dry run', () => fleetRun(api, '/cleanup', scope), log);
  if (can.syncDryRun) await timed(side, others, 'syncMs', 'sync dry run', () => fleetRun(api, '/sync', scope), log);
  else run.missing.syncMs = 'POST /sync has no dry-run flag (a real sync would make every namespace)';
  if (can.trainees !== undefined) await timed(side, others, 'traineesMs', 'GET /trainees, every page', () => listAll(api, can.trainees as number, run.users), log);
  else run.missing.traineesMs = 'route missing (GET /trainees)';
}

/** Starts the API and the worker of one size, working in its realm under a queue prefix of their own. */
async function startSide(realm: P5Realm, prefix: string, children: Child[]): Promise<Side> {
  const port = await freePort();
  const common = { QUEUE_PREFIX: prefix, KEYCLOAK_REALM: realm.name };
  children.push(await startChild('apps/api/dist/main.js', { ...common, PORT: String(port), HOST: '127.0.0.1' }, /listening/i, `p5-api-${realm.managed}`));
  const schedules = { RESET_SCHEDULE_ENABLED: 'false', CLEANUP_SCHEDULE_ENABLED: 'false', SYNC_SCHEDULE_ENABLED: 'false' };
  // BENCH_P5_TRACE_GC=1: the worker logs each garbage collection with its heap sizes (`--trace-gc`, in p5-worker-<size>.log).
  const flags = [...nodeFlagsFor(ROOT, 'apps/worker/dist/main.js'), ...(process.env.BENCH_P5_TRACE_GC === '1' ? ['--trace-gc'] : [])];
  const worker = await startChild('apps/worker/dist/main.js', { ...common, WORKER_HEALTH_PORT: '0', ...schedules }, /worker started/, `p5-worker-${realm.managed}`, flags);
  children.push(worker);
  const token = env('API_TOKENS').split(',')[0] as string;
  const api: Api = {
    async call(method, path, body) {
      const res = await fetch(`http://127.0.0.1:${port}${path}`, { method, headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) }, ...(body ? { body: JSON.stringify(body) } : {}) });
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    },
  };
  return { realm, api, worker, rss: sampleRss(worker.process.pid as number), run: { users: realm.managed, realm: realm.name, missing: {}, workerRssPeakMb: 0 } };
}

export async function benchScale(tag: string, small: number, large: number, log: (line: string) => void, rounds = P5_ROUNDS): Promise<ScaleFigures> {
  if (small >= large) throw new Error('--p5-small must be below --p5-large');
  const started = performance.now();
  const realms = [p5Realm(small, large), p5Realm(large, large)] as const;
  let seeded = 0;
  for (const realm of realms) {
    log(`  realm ${realm.name}: making what it lacks of ${realm.users} users (${P5_PREFIX}…, the first ${realm.managed} managed)…`);
    seeded += await ensureP5Realm(realm);
  }
  const seedSeconds = round((performance.now() - started) / 1000);
  log(`  made ${seeded} users in ${seedSeconds} s`);
  const children: Child[] = [];
  const sides: Side[] = [];
  const cleanup = async () => {
    for (const side of sides) side.rss.stop();
    await Promise.all(children.map((child) => child.stop()));
    await Promise.all(realms.map((realm) => dropPrefix(`bench-p5-${tag}-${realm.managed}`)));
  };
  return withCleanup(cleanup, async () => {
    for (const realm of realms) sides.push(await startSide(realm, `bench-p5-${tag}-${realm.managed}`, children));
    const can = await capabilities((sides[0] as Side).api);
    // An untimed run on each side first: no size pays for its worker's first fleet run.
    for (const side of sides) await fleetRun(side.api, '/cleanup', { dryRun: true, usernamePrefix: P5_PREFIX });
    for (let i = 0; i < rounds; i++) {
      log(`  round ${i + 1} of ${rounds}`);
      // Small first in odd rounds, large first in even ones.
      for (const side of i % 2 === 0 ? sides : [...sides].reverse()) await measureRound(side, sides.filter((other) => other !== side), can, log);
    }
    // Peaks over the timed runs only: the warm-up is left out, as it always was.
    const [smallRun, largeRun] = sides.map(({ run }) => {
      for (const measure of ['cleanupMs', 'syncMs', 'traineesMs'] as const) {
        const times = run.timesMs?.[measure];
        if (times) run[measure] = median(times);
      }
      run.workerRssPeakMb = Math.max(0, ...Object.values(run.workerRssPeaksMb ?? {}));
      return run;
    }) as [ScaleRun, ScaleRun];
    return { small: smallRun, large: largeRun, seeded, seedSeconds };
  });
}
