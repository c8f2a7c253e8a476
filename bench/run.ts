// `npm run bench [-- --namespaces N --creates N --queued N --seconds S --only p1,p2,p3,p4]`
// Measures P1–P4 on the local stack, each against a baseline measured in the same run,
// prints every figure with its ratio, and writes docs/benchmarks.md.
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadStackEnv, ROOT, round } from './lib.js';
import { benchEnqueue, type EnqueueFigures } from './p1-enqueue.js';
import { benchCreates, type CreateFigures } from './p2-creates.js';
import { benchReset, type ResetFigures } from './p3-reset.js';
import { benchWorkerMemory, type WorkerMemoryFigures } from './p4-worker-memory.js';
import { renderReport, type Row } from './report.js';

const { values: args } = parseArgs({
  options: {
    namespaces: { type: 'string', default: '1000' },
    creates: { type: 'string', default: '20' },
    concurrency: { type: 'string', default: '4' },
    queued: { type: 'string', default: '10000' },
    seconds: { type: 'string', default: '10' },
    only: { type: 'string', default: 'p1,p2,p3,p4' },
    'no-write': { type: 'boolean', default: false },
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
const rows: Row[] = [];
const print = (row: Row) => {
  rows.push(row);
  log(`${row.id.padEnd(4)} ${row.what}: ${row.value} vs ${row.baseline} → ${row.ratio} (target ${row.target}) ${row.met ? 'MET' : 'NOT MET'}`);
};

loadStackEnv();
const started = new Date();
log(`bench ${tag} on ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${round(totalmem() / 2 ** 30)} GiB`);

let p1: EnqueueFigures | undefined;
if (only.has('p1')) {
  const seconds = positive('seconds', args.seconds);
  log(`P1 enqueue: autocannon, 50 connections, ${seconds} s each…`);
  p1 = await benchEnqueue(seconds, tag);
  const ratio = p1.api.rps / p1.bare.rps;
  print({ id: 'P1', what: 'POST /provisioner req/s (full API vs bare route)', value: `${p1.api.rps} req/s, p99 ${p1.api.p99Ms} ms`, baseline: `${p1.bare.rps} req/s, p99 ${p1.bare.p99Ms} ms`, ratio: `${round(ratio, 2)}×`, target: '≥ 0.6×', met: ratio >= 0.6 });
  if (p1.api.non2xx + p1.api.errors > 0) log(`     (API answered ${p1.api.non2xx} non-2xx and had ${p1.api.errors} errors/timeouts)`);
}

let p2: CreateFigures | undefined;
if (only.has('p2')) {
  const creates = positive('creates', args.creates);
  const concurrency = positive('concurrency', args.concurrency);
  log(`P2 end-to-end creates: ${creates} trainees, worker concurrency ${concurrency}…`);
  p2 = await benchCreates(tag, creates, concurrency);
  const ratio = p2.e2ePerSecond / p2.keycloakPerSecond;
  print({ id: 'P2', what: 'trainees provisioned/s vs Keycloak users with password/s', value: `${p2.e2ePerSecond}/s`, baseline: `${p2.keycloakPerSecond}/s`, ratio: `${round(ratio, 2)}×`, target: '≥ 0.8×', met: ratio >= 0.8 });
  if (p2.failed > 0) log(`     (${p2.failed} creates failed)`);
}

let p3: ResetFigures | undefined;
if (only.has('p3')) {
  const namespaces = positive('namespaces', args.namespaces);
  log(`P3 reset of ${namespaces} namespaces…`);
  p3 = await benchReset(tag, namespaces, log);
  const speedup = p3.oldSeconds / p3.newSeconds;
  print({ id: 'P3', what: `reset of ${namespaces} namespaces (POST /reset purge vs old algorithm)`, value: `${p3.newSeconds} s`, baseline: `${p3.oldSeconds} s (${p3.oldRequests} delete-collections)`, ratio: `${round(speedup, 1)}× faster`, target: '≥ 10× faster', met: speedup >= 10 });
}

let p4: WorkerMemoryFigures | undefined;
if (only.has('p4')) {
  const queued = positive('queued', args.queued);
  log(`P4 memory: worker with ${queued} queued jobs…`);
  p4 = await benchWorkerMemory(tag, queued, 20);
  print({ id: 'P4a', what: `worker RSS with ${queued} queued jobs (peak over 20 s of work)`, value: `${p4.rssPeakMb} MB`, baseline: `${p4.rssStartMb} MB at start`, ratio: `${round(p4.rssPeakMb / Math.max(1, p4.rssStartMb), 2)}×`, target: '< 200 MB', met: p4.rssPeakMb < 200 });
  if (p1) print({ id: 'P4b', what: 'API RSS under the P1 load (peak)', value: `${p1.api.rssPeakMb} MB`, baseline: '—', ratio: '—', target: '< 150 MB', met: p1.api.rssPeakMb < 150 });
}

if (!args['no-write']) {
  const file = join(ROOT, 'docs', 'benchmarks.md');
  writeFileSync(file, renderReport({ started, argv: process.argv.slice(2), rows, p1, p2, p3, p4 }));
  log(`wrote ${file}`);
}
process.exit(0);
