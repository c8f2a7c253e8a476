// `npm run bench [-- --namespaces N --creates N --queued N --seconds S --p1-rounds N --p5-small N --p5-large N --p5-rounds N --cohort N --only p1,p2,p3,p4,p5,p6 --p5-drop --merge --no-write]`
// Measures P1–P6 on the local stack, each against a baseline measured in the same run,
// prints every figure with its ratio, and writes docs/benchmarks.md.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadStackEnv, LOG_DIR, ROOT, round, stackQuiet } from './lib.js';
import { benchEnqueue } from './p1-enqueue.js';
import { p1RoundsLine } from './report-p1.js';
import { benchCreates } from './p2-creates.js';
import { benchReset, workerRbacsOf } from './p3-reset.js';
import { benchWorkerMemory } from './p4-worker-memory.js';
import { benchScale } from './p5-scale.js';
import { dropP5 } from './p5-users.js';
import { cleanUpOnSignals, sweepTag } from './cleanup.js';
import { benchCohort } from './p6-cohort.js';
import { renderReport, rowsOf, type Figures } from './report.js';

const { values: args } = parseArgs({
  options: {
    namespaces: { type: 'string', default: '1000' },
    creates: { type: 'string', default: '40' },
    concurrency: { type: 'string', default: '4' },
    queued: { type: 'string', default: '10000' },
    seconds: { type: 'string', default: '10' },
    /** Rounds of P1's servers taking turns; each P1 figure is the median of its side's rounds. */
    'p1-rounds': { type: 'string', default: '3' },
    only: { type: 'string', default: 'p1,p2,p3,p4,p5,p6' },
    'p5-small': { type: 'string', default: '2000' },
    'p5-large': { type: 'string', default: '20000' },
    /** Rounds of both sizes' runs; each P5 figure is the median of its size's rounds. */
    'p5-rounds': { type: 'string', default: '3' },
    /** Removes the P5 realms (and P5 users earlier runs left in the stack's realm) at the end. */
    'p5-drop': { type: 'boolean', default: false },
    /** P6: trainees in the cohort, and as many single creates. */
    cohort: { type: 'string', default: '200' },
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
cleanUpOnSignals(log, () => sweepTag(tag));
const started = new Date();
log(`bench ${tag} on ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${round(totalmem() / 2 ** 30)} GiB`);

const previous: Figures = args.merge && existsSync(LAST) ? (JSON.parse(readFileSync(LAST, 'utf8')) as Figures) : {};
const figures: Figures = { ...previous };

try {
  // A stack just started keeps Keycloak's JVM busy for a minute or more: measure after that.
  const measuring = ['p1', 'p2', 'p3', 'p4', 'p5', 'p6'].some((part) => only.has(part));
  if (measuring && !(await stackQuiet(undefined, 180_000))) log('the stack was still busy after three minutes; measuring anyway');
  if (only.has('p1')) {
    const seconds = positive('seconds', args.seconds);
    const rounds = positive('p1-rounds', args['p1-rounds']);
    log(`P1 enqueue: autocannon, 50 connections, ${seconds} s each, ${rounds} rounds…`);
    figures.p1 = await benchEnqueue(seconds, tag, rounds);
    log(`P1   ${p1RoundsLine(figures.p1) ?? 'no rounds'}`);
    const { api, enqueueOnly: queue } = figures.p1;
    if (api.cpu && queue?.cpu) {
      log(`P1   CPU µs per request: API ${api.cpu.serverUs} + Redis ${api.cpu.redisUs}; one-add route ${queue.cpu.serverUs} + Redis ${queue.cpu.redisUs}`);
    }
  }
  if (only.has('p2')) {
    const creates = positive('creates', args.creates);
    const concurrency = positive('concurrency', args.concurrency);
    log(`P2 end-to-end creates: ${creates} trainees, worker concurrency ${concurrency}…`);
    figures.p2 = await benchCreates(tag, creates, concurrency);
    const { cpuMsPerTrainee, keycloakOnlyCpuMsPerUser, keycloakJobCallsCpuMsPerUser } = figures.p2;
    if (cpuMsPerTrainee) log(`P2   CPU ms per trainee: ${JSON.stringify(cpuMsPerTrainee)}; Keycloak alone per bare create: ${JSON.stringify(keycloakOnlyCpuMsPerUser)}`);
    if (keycloakJobCallsCpuMsPerUser) log(`P2   Keycloak alone, CPU ms per user of a create job's calls: ${JSON.stringify(keycloakJobCallsCpuMsPerUser)}; each round's ratio: ${figures.p2.keycloakRoundRatios?.join(', ')}`);
  }
  if (only.has('p3')) {
    const namespaces = positive('namespaces', args.namespaces);
    log(`P3 reset of ${namespaces} namespaces…`);
    figures.p3 = await benchReset(tag, namespaces, workerRbacsOf(process.env.P3_WORKER_RBAC), log);
  }
  if (only.has('p4')) {
    const queued = positive('queued', args.queued);
    log(`P4 memory: worker with ${queued} queued jobs…`);
    figures.p4 = await benchWorkerMemory(tag, queued, 20);
  }
  if (only.has('p5')) {
    const small = positive('p5-small', args['p5-small']);
    const large = positive('p5-large', args['p5-large']);
    const rounds = positive('p5-rounds', args['p5-rounds']);
    log(`P5 scale: ${small} vs ${large} managed users, ${rounds} rounds…`);
    figures.p5 = await benchScale(tag, small, large, log, rounds);
  }
  if (args['p5-drop']) {
    const dropped = await dropP5();
    log(`P5 dropped: ${dropped.realms} realms, ${dropped.users} users left in the stack's realm by earlier runs`);
  }
  if (only.has('p6')) {
    const trainees = positive('cohort', args.cohort);
    const concurrency = positive('concurrency', args.concurrency);
    log(`P6 cohort of ${trainees} vs ${trainees} single creates, concurrency ${concurrency}…`);
    figures.p6 = await benchCohort(tag, trainees, concurrency, log);
    const { cohortSeconds, singleSeconds } = figures.p6;
    log(`P6   cohort ${cohortSeconds} s vs singles ${singleSeconds} s → ${round(cohortSeconds / singleSeconds, 2)}× the time`);
  }
} finally {
  // Whatever a part made and failed to remove (it threw half-way) goes by its name.
  await sweepTag(tag);
}
const rows = rowsOf(figures);
for (const row of rows) log(`${row.id.padEnd(4)} ${row.what}: ${row.value} vs ${row.baseline} → ${row.ratio} (target ${row.target})${row.met === undefined ? '' : row.met ? ' MET' : ' NOT MET'}`);

// A `--no-write` run touches neither the page nor the figures a later `--merge` starts from.
if (!args['no-write']) {
  mkdirSync(LOG_DIR, { recursive: true });
  writeFileSync(LAST, JSON.stringify(figures, null, 2));
  const file = join(ROOT, 'docs', 'benchmarks.md');
  writeFileSync(file, renderReport({ started, argv: process.argv.slice(2), rows, ...figures }));
  log(`wrote ${file}`);
}
process.exit(0);
