// `npm run bench [-- --namespaces N --creates N --cohort N --queued N --seconds S --only p1,p2,p3,p4,p5 --merge --no-write]`
// Measures P1–P4 on the local stack, each against a baseline measured in the same run,
// prints every figure with its ratio, and writes docs/benchmarks.md.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadStackEnv, LOG_DIR, ROOT, round } from './lib.js';
import { benchEnqueue, ownCoreRatio } from './p1-enqueue.js';
import { benchCreates } from './p2-creates.js';
import { benchReset } from './p3-reset.js';
import { benchWorkerMemory } from './p4-worker-memory.js';
import { benchCohort } from './p5-cohort.js';
import { renderReport, rowsOf, type Figures } from './report.js';

const { values: args } = parseArgs({
  options: {
    namespaces: { type: 'string', default: '1000' },
    creates: { type: 'string', default: '40' },
    concurrency: { type: 'string', default: '4' },
    queued: { type: 'string', default: '10000' },
    seconds: { type: 'string', default: '10' },
    /** P5: trainees in the cohort, and as many single creates. */
    cohort: { type: 'string', default: '200' },
    only: { type: 'string', default: 'p1,p2,p3,p4,p5' },
    'no-write': { type: 'boolean', default: false },
    /** Keep the figures of the previous run for the parts not measured now. */
    merge: { type: 'boolean', default: false },
  },
});
const positive = (name: string, raw: string | undefined): number => {
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1) {
    process.stderr.write(`--${name} must be a positive integer\n`);
    process.exit(2);
  }
  return value;
};
const only = new Set((args.only ?? '').split(',').map((s) => s.trim().toLowerCase()));
const tag = `b${randomBytes(3).toString('hex')}`;
const log = (line: string) => process.stdout.write(`${line}\n`);
const LAST = join(LOG_DIR, 'last.json');

loadStackEnv();
const started = new Date();
log(`bench ${tag} on ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${round(totalmem() / 2 ** 30)} GiB`);

const previous: Figures = args.merge && existsSync(LAST) ? (JSON.parse(readFileSync(LAST, 'utf8')) as Figures) : {};
const figures: Figures = { ...previous };

if (only.has('p1')) {
  const seconds = positive('seconds', args.seconds);
  log(`P1 enqueue: autocannon, 50 connections, ${seconds} s each…`);
  figures.p1 = await benchEnqueue(seconds, tag);
  const { api, bare } = figures.p1;
  if (api.cpu && bare.cpu) {
    log(`P1   CPU µs per request: API ${api.cpu.serverUs} + Redis ${api.cpu.redisUs} + load ${api.cpu.loadUs}; bare ${bare.cpu.serverUs} + load ${bare.cpu.loadUs}`);
    log(`P1   bound with Redis and the load generator on cores of their own: bare/API CPU per request → ${round(ownCoreRatio(api.cpu, bare.cpu), 2)}×`);
  }
  const queue = figures.p1.enqueueOnly;
  if (queue?.cpu && api.cpu) {
    log(`P1   vs a bare route doing one BullMQ add: ${api.rps} vs ${queue.rps} req/s → ${round(api.rps / queue.rps, 2)}×; CPU µs per request ${api.cpu.serverUs} vs ${queue.cpu.serverUs} (+ Redis ${queue.cpu.redisUs})`);
  }
}
if (only.has('p2')) {
  const creates = positive('creates', args.creates);
  const concurrency = positive('concurrency', args.concurrency);
  log(`P2 end-to-end creates: ${creates} trainees, worker concurrency ${concurrency}…`);
  figures.p2 = await benchCreates(tag, creates, concurrency);
  const { keycloakPerSecond, keycloakJobCallsPerSecond } = figures.p2;
  if (keycloakJobCallsPerSecond !== undefined) {
    log(`P2   Keycloak alone: a create job's calls ${keycloakJobCallsPerSecond}/s vs bare creates ${keycloakPerSecond}/s → ${round(keycloakJobCallsPerSecond / keycloakPerSecond, 2)}× (the bound where Keycloak has its own cores)`);
  }
}
if (only.has('p3')) {
  const namespaces = positive('namespaces', args.namespaces);
  log(`P3 reset of ${namespaces} namespaces…`);
  figures.p3 = await benchReset(tag, namespaces, log);
}
if (only.has('p4')) {
  const queued = positive('queued', args.queued);
  log(`P4 memory: worker with ${queued} queued jobs…`);
  figures.p4 = await benchWorkerMemory(tag, queued, 20);
}
if (only.has('p5')) {
  const trainees = positive('cohort', args.cohort);
  const concurrency = positive('concurrency', args.concurrency);
  log(`P5 cohort of ${trainees} vs ${trainees} single creates, concurrency ${concurrency}…`);
  figures.p5 = await benchCohort(tag, trainees, concurrency, log);
  const { cohortSeconds, singleSeconds } = figures.p5;
  log(`P5   cohort ${cohortSeconds} s vs singles ${singleSeconds} s → ${round(cohortSeconds / singleSeconds, 2)}× the time`);
}
const rows = rowsOf(figures);
for (const row of rows) log(`${row.id.padEnd(4)} ${row.what}: ${row.value} vs ${row.baseline} → ${row.ratio} (target ${row.target}) ${row.met ? 'MET' : 'NOT MET'}`);

// A `--no-write` run touches neither the page nor the figures a later `--merge` starts from.
if (!args['no-write']) {
  mkdirSync(LOG_DIR, { recursive: true });
  writeFileSync(LAST, JSON.stringify(figures, null, 2));
  const file = join(ROOT, 'docs', 'benchmarks.md');
  writeFileSync(file, renderReport({ started, argv: process.argv.slice(2), rows, ...figures }));
  log(`wrote ${file}`);
}
process.exit(0);
