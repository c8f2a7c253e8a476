// docs/benchmarks.md from one bench run: figures, baselines, ratios, machine, date, how to rerun.
import { cpus, loadavg, totalmem } from 'node:os';
import type { EnqueueFigures } from './p1-enqueue.js';
import type { CreateFigures } from './p2-creates.js';
import type { ResetFigures } from './p3-reset.js';
import type { WorkerMemoryFigures } from './p4-worker-memory.js';
import { round } from './lib.js';

export interface Row {
  id: string;
  what: string;
  value: string;
  baseline: string;
  ratio: string;
  target: string;
  met: boolean;
}

export interface ReportInput {
  started: Date;
  argv: string[];
  rows: Row[];
  p1?: EnqueueFigures | undefined;
  p2?: CreateFigures | undefined;
  p3?: ResetFigures | undefined;
  p4?: WorkerMemoryFigures | undefined;
}

export function renderReport({ started, argv, rows, p1, p2, p3, p4 }: ReportInput): string {
  const cpu = cpus();
  const lines = [
    '# Benchmarks',
    '',
    'Written by `npm run bench` (bench/run.ts); rerun it to refresh this page. Every figure is measured',
    'against a baseline taken in the same run on the same local stack, so the ratio is what matters:',
    'absolute numbers depend on the machine and on whatever else it runs.',
    '',
    `- Date: ${started.toISOString()}`,
    `- Machine: ${cpu.length} × ${cpu[0]?.model ?? 'unknown CPU'}, ${round(totalmem() / 2 ** 30)} GiB RAM, Node ${process.version}, load average at the end ${loadavg().map((l) => round(l, 1)).join(' / ')}`,
    `- Command: \`npm run bench${argv.length ? ` -- ${argv.join(' ')}` : ''}\``,
    '',
    '| | Measure | Ours | Baseline | Ratio | Target | |',
    '|---|---|---|---|---|---|---|',
    ...rows.map((r) => `| ${r.id} | ${r.what} | ${r.value} | ${r.baseline} | ${r.ratio} | ${r.target} | ${r.met ? 'met' : '**not met**'} |`),
    '',
    '## What each figure is',
    '',
    '- **P1 enqueue**: autocannon, 50 connections, against `POST /provisioner` of the real API process',
    '  (`apps/api/src/main.ts`: token check, zod validation, info-level pino logs, the per-job enqueue lock and',
    '  `Queue.add` on the stack\'s Redis) vs a bare Fastify route answering 202 (`bench/bare-server.ts`), both',
    '  started the same way (`node --conditions=source --import tsx`). Each request has a unique email, so each',
    '  one enqueues a new job; repeated emails would hit the cheaper deduplicated path and flatter the figure.',
    '- **P2 end-to-end creates**: N creates through the API, a worker process (`apps/worker/src/main.ts`) at the',
    '  given concurrency provisioning Keycloak, Kubernetes and Grafana; rate = N / time from the first POST to',
    '  the last job completed. Baseline: N Keycloak users with a password created directly through the admin REST',
    '  API at the same concurrency, on the same Keycloak. Everything is deleted afterwards.',
    '- **P3 reset**: N namespaces made directly (labels as the provisioner sets them, two ConfigMaps each) with',
    '  a provisioned Keycloak user each. Baseline: the old code\'s algorithm (`bench/old-reset.ts`): namespace after',
    '  namespace, one delete-collection per discovered namespaced type except resourcequotas and rolebindings.',
    '  Ours: `POST /reset {"mode": "purge", "usernamePrefix": …}` (the same work: empty in place) as a fleet flow,',
    '  timed until the parent job completed; the bench checks that no ConfigMap is left.',
    '- **P4 memory**: peak RSS (Linux `VmRSS`, sampled every 200 ms) of a worker process working for 20 s with',
    '  the given number of create jobs queued (what it created is deleted afterwards), and of the API process',
    '  during the P1 load. Processes run from TypeScript sources through tsx, which adds the compiler\'s',
    '  memory; the built image (`node dist/…`) needs less.',
    '',
    '## Raw figures',
    '',
    '```json',
    JSON.stringify({ p1, p2, p3, p4 }, null, 2),
    '```',
    '',
    '## Rerun',
    '',
    '```sh',
    'npm run stack:up          # the local stack (reused if it runs)',
    'npm run bench             # all of P1–P4: 1,000 namespaces for P3, 20 creates for P2',
    'npm run bench -- --namespaces 100 --creates 10 --seconds 5   # quicker',
    'npm run bench -- --only p1,p4 --no-write                     # a subset, without rewriting this page',
    '```',
    '',
    'The bench uses its own queue prefixes (`bench-p<n>-<tag>`) and names (`<tag>-…`), and removes the jobs,',
    'users and namespaces it made. Logs of the processes it starts: `test-artifacts/bench/`.',
    '',
  ];
  return lines.join('\n');
}
