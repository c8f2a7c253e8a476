// P1 enqueue: POST /provisioner through the full API (auth, validation, logging, the queue add
// and its read-back) vs a bare Fastify route answering 202, each in its own plain Node process
// started the same way, driven by autocannon with 50 connections. Every request carries a
// unique email, so every one really enqueues a new job (deduplicated answers would
// measure a cheaper path). Beside it, in rounds: a bare route doing one BullMQ add (what the
// API adds on top of the queue), the same features written the plain way (naive-server.mjs)
// and the API with its queue taken away (floor-server.mjs). Also samples the API's RSS under that load (P4), and
// the CPU time each request costs the server, Redis and the load generator: on a machine
// where they share the cores, that sum bounds the rate.
import autocannon, { type Result } from 'autocannon';
import { availableParallelism } from 'node:os';
import { cpuSeconds, dropPrefix, env, freePort, median, redisCpuSeconds, ROOT, round, sampleRss, startChild } from './lib.js';
import { shippedMallocEnv, shippedNodeFlags } from './node-flags.js';

/** CPU microseconds per request: the server process, Redis, the load generator (autocannon, in this process). */
export interface CpuPerRequest {
  serverUs: number;
  redisUs: number;
  loadUs: number;
}

/** One server under the load: rate, latency, refusals and, when measured, CPU per request. */
export interface ServerFigures {
  rps: number;
  p99Ms: number;
  non2xx: number;
  errors: number;
  cpu?: CpuPerRequest;
}

export interface EnqueueFigures {
  /** The median of the rounds (the RSS: the peak over all of them). */
  api: ServerFigures & { rssPeakMb: number };
  bare: ServerFigures;
  /** A bare route doing one BullMQ add (bench/enqueue-server.mjs): what the API adds on top of the queue. */
  enqueueOnly?: ServerFigures;
  /** Cores the machine has: the most the three processes can use together. */
  cores?: number;
  /** The API's features written the plain way (bench/naive-server.mjs): what the API's own work saves. */
  naive?: ServerFigures;
  /** The API with its queue taken away (bench/floor-server.mjs): the API when its add and read-back cost nothing. */
  floor?: ServerFigures;
  /** Each round's figures, in the order run (older runs measured one round, without them; the floor came later). */
  rounds?: Round[];
}

/** One round of P1: each server's figures (runs before the floor existed lack it). */
export interface Round {
  api: ServerFigures & { rssPeakMb: number };
  enqueueOnly: ServerFigures;
  naive: ServerFigures;
  floor?: ServerFigures;
}

/**
 * The highest rate the machine allows if every core were busy with nothing but the
 * server, Redis and the load generator at their measured cost per request.
 */
export const ceilingRps = (cpu: CpuPerRequest, cores: number): number => (cores * 1e6) / (cpu.serverUs + cpu.redisUs + cpu.loadUs);

/**
 * The ratio when the load generator and Redis have cores of their own: each server is one
 * Node thread, so it answers at most one request per `serverUs` of CPU, and the ratio is
 * bounded by how much more CPU a request costs the API than the bare route.
 */
export const ownCoreRatio = (api: CpuPerRequest, bare: CpuPerRequest): number => bare.serverUs / api.serverUs;

function load(url: string, token: string | undefined, seconds: number, tag: string): Promise<Result> {
  let n = 0;
  return autocannon({
    url,
    connections: 50,
    duration: seconds,
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    requests: [
      {
        method: 'POST',
        path: '/provisioner',
        setupRequest: (request) => ({ ...request, body: JSON.stringify({ email: `${tag}-${n++}@bench.example` }) }),
      },
    ],
  });
}

const figures = (result: Result) => ({ rps: round(result.requests.average), p99Ms: round(result.latency.p99, 2), non2xx: result.non2xx, errors: result.errors + result.timeouts });

/** Runs the measured load and charges the CPU each process spent to the requests answered. */
async function measured(pid: number, run: () => Promise<Result>): Promise<{ result: Result; cpu: CpuPerRequest }> {
  const before = { server: cpuSeconds(pid), redis: await redisCpuSeconds(), load: process.cpuUsage() };
  const result = await run();
  const server = cpuSeconds(pid) - before.server;
  const redis = (await redisCpuSeconds()) - before.redis;
  const loadUsage = process.cpuUsage(before.load);
  const requests = Math.max(1, result.requests.total);
  const perRequest = (seconds: number) => round((seconds * 1e6) / requests);
  return { result, cpu: { serverUs: perRequest(server), redisUs: perRequest(redis), loadUs: perRequest((loadUsage.user + loadUsage.system) / 1e6) } };
}

/** Starts a built server, warms it up, loads it for `seconds` (sampling its RSS), and stops it. */
async function measureServer(name: string, entry: string, childEnv: Record<string, string>, token: string | undefined, seconds: number, tag: string): Promise<{ figures: ServerFigures; rssPeakMb: number }> {
  const port = await freePort();
  // Every P1 server runs with the api's heap flags and malloc settings: the routes compete in the same container.
  const serverEnv = { ...shippedMallocEnv(ROOT, 'api'), ...childEnv, PORT: String(port), HOST: '127.0.0.1' };
  const server = await startChild(entry, serverEnv, /listening/i, `p1-${name}`, shippedNodeFlags(ROOT, 'api'));
  const url = `http://127.0.0.1:${port}`;
  try {
    await load(url, token, 2, `${tag}-warm`);
    const sampler = sampleRss(server.process.pid as number);
    const run = await measured(server.process.pid as number, () => load(url, token, seconds, tag));
    return { figures: { ...figures(run.result), cpu: run.cpu }, rssPeakMb: round(sampler.stop().peakMb) };
  } finally {
    await server.stop();
  }
}

/** Each field the median of the rounds' (CPU too, when every round measured it). */
function medianOf(runs: readonly ServerFigures[]): ServerFigures {
  const of = (pick: (figures: ServerFigures) => number) => median(runs.map(pick));
  const cpus = runs.flatMap((run) => (run.cpu ? [run.cpu] : []));
  const cpu = cpus.length === runs.length ? { serverUs: median(cpus.map((c) => c.serverUs)), redisUs: median(cpus.map((c) => c.redisUs)), loadUs: median(cpus.map((c) => c.loadUs)) } : undefined;
  return { rps: of((r) => r.rps), p99Ms: of((r) => r.p99Ms), non2xx: Math.max(...runs.map((r) => r.non2xx)), errors: Math.max(...runs.map((r) => r.errors)), ...(cpu ? { cpu } : {}) };
}

/**
 * The API, the one-add route, the floor and the naive one take turns, `rounds` times, the API and
 * the floor in the middle, the one-add route first in odd rounds and last in even ones: the
 * machine's speed drifts by half within minutes here, and one run of each, minutes apart, put that drift into the ratio (0.45× to
 * 0.65× for the same code). Each figure is the median of its side's rounds; the bare route,
 * information only, runs once.
 */
export async function benchEnqueue(seconds: number, tag: string, rounds = 3): Promise<EnqueueFigures> {
  const prefix = `bench-p1-${tag}`;
  const token = env('API_TOKENS').split(',')[0] as string;
  try {
    const bare = await measureServer('bare', 'bench/bare-server.mjs', {}, undefined, seconds, tag);
    type Measured = Awaited<ReturnType<typeof measureServer>>;
    type Side = 'queue' | 'api' | 'floor' | 'naive';
    const runs: Array<Required<Round>> = [];
    for (let turn = 1; turn <= rounds; turn++) {
      const servers: Record<Side, () => Promise<Measured>> = {
        queue: () => measureServer('enqueue', 'bench/enqueue-server.mjs', { QUEUE_PREFIX: `${prefix}-q` }, undefined, seconds, `${tag}-q${turn}`),
        // Info-level logs as deployed, to a file (the child's stdout is piped to the bench log).
        api: () => measureServer('api', 'apps/api/dist/main.js', { QUEUE_PREFIX: prefix, LOG_LEVEL: 'info' }, token, seconds, `${tag}-${turn}`),
        floor: () => measureServer('floor', 'bench/floor-server.mjs', { QUEUE_PREFIX: `${prefix}-f`, LOG_LEVEL: 'info' }, token, seconds, `${tag}-f${turn}`),
        naive: () => measureServer('naive', 'bench/naive-server.mjs', { QUEUE_PREFIX: `${prefix}-n` }, token, seconds, `${tag}-n${turn}`),
      };
      // The API and the floor in the middle, the one-add route and the naive one at the ends, all reversed every other round.
      const order: Side[] = turn % 2 === 1 ? ['queue', 'api', 'floor', 'naive'] : ['naive', 'floor', 'api', 'queue'];
      const got = {} as Record<Side, Measured>;
      for (const side of order) got[side] = await servers[side]();
      runs.push({ api: { ...got.api.figures, rssPeakMb: got.api.rssPeakMb }, enqueueOnly: got.queue.figures, naive: got.naive.figures, floor: got.floor.figures });
    }
    const api = { ...medianOf(runs.map((run) => run.api)), rssPeakMb: Math.max(...runs.map((run) => run.api.rssPeakMb)) };
    const side = (pick: (run: (typeof runs)[number]) => ServerFigures) => medianOf(runs.map(pick));
    return { api, bare: bare.figures, enqueueOnly: side((run) => run.enqueueOnly), naive: side((run) => run.naive), floor: side((run) => run.floor), cores: availableParallelism(), rounds: runs };
  } finally {
    for (const suffix of ['', '-q', '-n', '-f']) await dropPrefix(`${prefix}${suffix}`);
  }
}
