// docs/benchmarks.md from one bench run: figures, baselines, ratios, machine, date, how to rerun.
import { cpus, loadavg, totalmem } from 'node:os';
import { ceilingRps, ownCoreRatio, type CpuPerRequest, type EnqueueFigures } from './p1-enqueue.js';
import type { CreateFigures } from './p2-creates.js';
import type { ResetFigures } from './p3-reset.js';
import type { WorkerMemoryFigures } from './p4-worker-memory.js';
import type { CohortFigures } from './p5-cohort.js';
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

export interface Figures {
  p1?: EnqueueFigures | undefined;
  p2?: CreateFigures | undefined;
  p3?: ResetFigures | undefined;
  p4?: WorkerMemoryFigures | undefined;
  p5?: CohortFigures | undefined;
}

export interface ReportInput extends Figures {
  started: Date;
  argv: string[];
  rows: Row[];
}

/** One row per figure, with its baseline, ratio and target. */
export function rowsOf({ p1, p2, p3, p4, p5 }: Figures): Row[] {
  const rows: Row[] = [];
  if (p1) {
    const ratio = p1.api.rps / p1.bare.rps;
    rows.push({ id: 'P1', what: 'POST /provisioner req/s (full API vs bare route)', value: `${p1.api.rps} req/s, p99 ${p1.api.p99Ms} ms`, baseline: `${p1.bare.rps} req/s, p99 ${p1.bare.p99Ms} ms`, ratio: `${round(ratio, 2)}×`, target: '≥ 0.6×', met: ratio >= 0.6 });
  }
  if (p2) {
    const ratio = p2.e2ePerSecond / p2.keycloakPerSecond;
    rows.push({ id: 'P2', what: `trainees provisioned/s vs Keycloak users with password/s (${p2.creates} each)`, value: `${p2.e2ePerSecond}/s`, baseline: `${p2.keycloakPerSecond}/s`, ratio: `${round(ratio, 2)}×`, target: '≥ 0.8×', met: ratio >= 0.8 });
  }
  if (p3) {
    const speedup = p3.oldSeconds / p3.newSeconds;
    rows.push({ id: 'P3', what: `reset of ${p3.namespaces} namespaces (POST /reset purge vs old algorithm${p3.workerRbac === 'shipped' ? ', shipped worker RBAC' : p3.workerRbac === 'inventory' ? ', shipped worker RBAC + purge-inventory' : ''})`, value: `${p3.newSeconds} s`, baseline: `${p3.oldSeconds} s (${p3.oldRequests} delete-collections)`, ratio: `${round(speedup, 2)}× faster`, target: '≥ 10× faster', met: speedup >= 10 });
  }
  if (p4) {
    rows.push({ id: 'P4a', what: `worker RSS with ${p4.queued} queued jobs (peak over ${p4.seconds} s of work)`, value: `${p4.rssPeakMb} MB`, baseline: `${p4.rssStartMb} MB at start`, ratio: `${round(p4.rssPeakMb / Math.max(1, p4.rssStartMb), 2)}×`, target: '< 200 MB', met: p4.rssPeakMb < 200 });
  }
  if (p5) {
    const ratio = p5.cohortSeconds / p5.singleSeconds;
    const failed = p5.cohortFailed + p5.singleFailed;
    rows.push({ id: 'P5', what: `a cohort of ${p5.trainees} (one flow) vs ${p5.trainees} single creates, concurrency ${p5.concurrency}${failed ? `, ${failed} failed` : ''}`, value: `${p5.cohortSeconds} s`, baseline: `${p5.singleSeconds} s`, ratio: `${round(ratio, 2)}× the time`, target: '≤ 1.2×', met: ratio <= 1.2 && failed === 0 });
  }
  if (p1) rows.push({ id: 'P4b', what: 'API RSS under the P1 load (peak)', value: `${p1.api.rssPeakMb} MB`, baseline: '—', ratio: '—', target: '< 150 MB', met: p1.api.rssPeakMb < 150 });
  return rows;
}

export function renderReport({ started, argv, rows, p1, p2, p3, p4, p5 }: ReportInput): string {
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
    ...(argv.includes('--merge') ? ['- `--merge`: the figures this command did not measure come from the previous run (same machine, same day).'] : []),
    '',
    '| | Measure | Ours | Baseline | Ratio | Target | |',
    '|---|---|---|---|---|---|---|',
    ...rows.map((r) => `| ${r.id} | ${r.what} | ${r.value} | ${r.baseline} | ${r.ratio} | ${r.target} | ${r.met ? 'met' : '**not met**'} |`),
    '',
    '## What each figure is',
    '',
    '- **P1 enqueue**: autocannon, 50 connections, against `POST /provisioner` of the real API process',
    '  (`apps/api/dist/main.js`: token check, zod validation, info-level pino logs, `getJob` and',
    '  `Queue.add` on the stack\'s Redis) vs a bare Fastify route answering 202 (`bench/bare-server.mjs`), both',
    '  started the same way (plain `node`, built code; `npm run bench` runs `tsc -b` first). Each request has a unique email, so each',
    '  one enqueues a new job; repeated emails would hit the cheaper deduplicated path and flatter the figure.',
    '  A third server, a bare route doing one BullMQ add with nothing else (`bench/enqueue-server.mjs`), is',
    '  measured the same way: not the target\'s baseline, but it shows what the API adds on top of the queue.',
    '- **P2 end-to-end creates**: N creates through the API, a worker process (`apps/worker/dist/main.js`) at the',
    '  given concurrency provisioning Keycloak, Kubernetes and Grafana; rate = N / time from the first POST to',
    '  the last job completed. Baseline: N Keycloak users with a password created directly through the admin REST',
    '  API at the same concurrency, on the same Keycloak, in three rounds that alternate with three rounds of a create',
    '  job\'s own Keycloak calls made through the worker\'s adapter (each figure is the mean of its rounds). Each',
    '  side first runs an untimed warm-up batch as large as the concurrency. CPU per process comes from Linux',
    '  `/proc` (process trees, so Keycloak\'s JVM counts).',
    '  Everything is deleted afterwards.',
    '- **P3 reset**: N namespaces seeded as a create leaves them (namespace, RoleBinding, quota, limit range and',
    '  policy applied through the core\'s plan and adapter, for a provisioned Keycloak user each) plus two ConfigMaps',
    '  each. Baseline: the old code\'s algorithm (`bench/old-reset.ts`): namespace after namespace, one',
    '  delete-collection per discovered namespaced type except resourcequotas and rolebindings. Then seeded again',
    '  (the old algorithm deletes the limit range and policy too), and ours: `POST /reset {"mode": "purge",',
    '  "usernamePrefix": …}` (the same work: empty in place) as a fleet flow, timed until the parent job completed;',
    '  the bench checks that no seeded ConfigMap is left and that every namespace kept its quota, limit range and',
    '  RoleBinding. The worker runs with the stack\'s admin kubeconfig, so its inventory may list every type;',
    '  `P3_WORKER_RBAC=shipped` gives it k8s/base\'s worker ClusterRole instead, which may not (docs/operations.md);',
    '  `P3_WORKER_RBAC=inventory` adds k8s/components/purge-inventory, which may list all but Secrets.',
    '- **P4 memory**: peak RSS (Linux `VmRSS`, sampled every 200 ms) of a worker process working for 20 s with',
    '  the given number of create jobs queued (what it created is deleted afterwards), and of the API process',
    '  during the P1 load. Both run the built code with plain `node`, as the image does.',
    '- **P5 cohort**: N trainees as one `POST /cohorts` (one flow: a parent and one create child per trainee,',
    '  FLEET_CONCURRENCY at a time) vs N `POST /provisioner` (WORKER_CONCURRENCY at a time; both set to',
    '  `--concurrency`), in the same run, through the same API and worker processes; time from the first',
    '  request to the last trainee done (`--cohort N`, default 200), after an untimed warm-up of as many',
    '  single creates as the concurrency. Everything is deleted afterwards.',
    '',
    '## Where the time goes',
    '',
    '- P1: per request the API checks the token, validates with zod, writes one access log line, and makes two',
    '  Redis round trips (`getJob`, then `Queue.add`, a Lua script of several writes; the enqueue lock is',
    '  taken only to replace a finished job); the bare route makes none. The API loads only `@kup/core`,',
    '  not the Kubernetes and Keycloak clients, which live in `@kup/adapters` (that halved its memory).',
    ...p1CpuLines(p1),
    '- P2: a trainee costs Keycloak the same user-with-password write as the baseline plus the final attribute',
    '  update (a read and a write; a lookup only after a conflict or on a retry), the apiserver five server-side',
    '  applies, Grafana four calls.',
    ...p2CpuLines(p2),
    '- P3: the old loop sends every namespace one delete-collection per type, 29 here, nearly all empty. Ours',
    '  takes one inventory per run (one cluster-wide, metadata-only list per type, about 30 lists), then sends each',
    '  namespace whose fittings are current only the delete-collections of the types it holds (one here: its',
    '  ConfigMaps), with no re-apply, no namespace read and no Keycloak lookup. What is left per trainee is the fleet',
    '  child itself (a BullMQ job and its user lock) and its share of the Keycloak listing, on two cores that the',
    '  apiserver, etcd, the worker and Keycloak share. With the shipped worker RBAC the inventory may not list',
    '  trainee objects (403), so every type is still emptied in every namespace and only the re-apply and the',
    '  lookups are saved (about 3×); k8s/components/purge-inventory lets it list all but Secrets (about 9×).',
    '',
    '## Raw figures',
    '',
    '```json',
    JSON.stringify({ p1, p2, p3, p4, p5 }, null, 2),
    '```',
    '',
    '## Rerun',
    '',
    '```sh',
    'npm run stack:up          # the local stack (reused if it runs)',
    'npm run bench             # all of P1–P4: 1,000 namespaces for P3, 40 creates for P2',
    'npm run bench -- --namespaces 100 --creates 10 --seconds 5   # quicker',
    'npm run bench -- --only p1 --merge   # remeasure P1, keep the other figures of the last run',
    'npm run bench -- --only p1,p4 --no-write                     # a subset: rewrites neither this page nor the figures --merge reuses',
    '```',
    '',
    'The bench uses its own queue prefixes (`bench-p<n>-<tag>`) and names (`<tag>-…`), and removes the jobs,',
    'users and namespaces it made. Logs of the processes it starts: `test-artifacts/bench/`.',
    '',
  ];
  return lines.join('\n');
}

/** Where P1's CPU goes, and the ratios the machine's cores and the API's own CPU allow (when the run measured CPU). */
function p1CpuLines(p1: EnqueueFigures | undefined): string[] {
  if (!p1?.api.cpu || !p1.bare.cpu || !p1.cores) return [];
  const { api, bare, cores } = { api: p1.api.cpu, bare: p1.bare.cpu, cores: p1.cores };
  const ceiling = ceilingRps(api, cores);
  return [
    `  CPU per request, measured: API ${api.serverUs} µs + Redis ${api.redisUs} µs + load generator ${api.loadUs} µs,`,
    `  against bare route ${bare.serverUs} µs + load generator ${bare.loadUs} µs. With all ${cores} cores doing nothing else, that`,
    `  cost allows at most ${round(ceiling)} req/s, ${round(ceiling / p1.bare.rps, 2)}× the bare route's measured rate, because Redis and`,
    '  the load generator take cores the API would otherwise have.',
    `  Cores of their own for them would not reach the target either: each server is one Node thread, so the`,
    `  ratio is then bounded by CPU per request, bare ${bare.serverUs} µs / API ${api.serverUs} µs = ${round(ownCoreRatio(api, bare), 2)}×. Reaching`,
    `  0.6× needs the API at ${round(bare.serverUs / 0.6)} µs per request: ${round(bare.serverUs / 0.6 - bare.serverUs)} µs over the bare route for the token check,`,
    `  validation, the access log and the BullMQ add together, which cost ${round(api.serverUs - bare.serverUs)} µs here.`,
    ...enqueueOnlyLines(p1, api, bare),
  ];
}

/** The API against a bare route that only enqueues: what the API adds on top of the queue it drives. */
function enqueueOnlyLines(p1: EnqueueFigures, api: CpuPerRequest, bare: CpuPerRequest): string[] {
  const queue = p1.enqueueOnly;
  if (!queue?.cpu) return [];
  return [
    `  Against a bare route that does one BullMQ add and nothing else (\`bench/enqueue-server.mjs\`, ${queue.rps} req/s,`,
    `  p99 ${queue.p99Ms} ms; ${queue.cpu.serverUs} µs + Redis ${queue.cpu.redisUs} µs per request), the API reaches ${round(p1.api.rps / queue.rps, 2)}× the rate, and`,
    `  ${round(queue.cpu.serverUs / api.serverUs, 2)}× on CPU per request: the token check, validation, username, access log and`,
    `  deduplication read add ${round(api.serverUs - queue.cpu.serverUs)} µs to the ${round(queue.cpu.serverUs - bare.serverUs)} µs the add itself costs over the bare route.`,
    `  That route alone reaches ${round(queue.rps / p1.bare.rps, 2)}× the bare route (${round(bare.serverUs / queue.cpu.serverUs, 2)}× on CPU per request): one BullMQ add`,
    '  and nothing else already costs more than the target leaves for the whole API.',
  ];
}

/** Where P2's CPU goes, by process, and the best ratio the machine's cores allow at that cost. */
function p2CpuLines(p2: CreateFigures | undefined): string[] {
  if (!p2?.cpuMsPerTrainee || !p2.keycloakOnlyCpuMsPerUser) return [];
  const sum = (cpu: Record<string, number>) => Object.values(cpu).reduce((a, b) => a + b, 0);
  const list = (cpu: Record<string, number>) =>
    Object.entries(cpu)
      .filter(([, ms]) => ms >= 0.5)
      .sort(([, a], [, b]) => b - a)
      .map(([name, ms]) => `${name} ${round(ms)}`)
      .join(', ');
  const e2e = sum(p2.cpuMsPerTrainee);
  const alone = sum(p2.keycloakOnlyCpuMsPerUser);
  const lines = [
    `  CPU per trainee, measured (ms): ${list(p2.cpuMsPerTrainee)}; ${round(e2e)} in all. Keycloak alone`,
    `  spends ${round(alone)} ms per user (${list(p2.keycloakOnlyCpuMsPerUser)}). When the shared cores are the limit,`,
    `  the ratio cannot pass ${round(alone / e2e, 2)}× (${round(alone)} / ${round(e2e)}): the other systems a trainee needs run on`,
    '  the cores Keycloak would otherwise have, and Keycloak itself burns more CPU per call while it competes',
    '  for them.',
  ];
  const jobs = p2.keycloakJobCallsPerSecond;
  const jobsKeycloakMs = p2.keycloakJobCallsCpuMsPerUser?.keycloak;
  if (jobs !== undefined && jobsKeycloakMs !== undefined) {
    lines.push(
      `  Where Keycloak has its cores to itself, as in production, a create job's own Keycloak calls (create with`,
      `  password, then the \`provisioned\` mark: a read and a write; made through the worker's adapter with nothing`,
      `  else running) go at ${jobs}/s against ${p2.keycloakPerSecond}/s for bare creates: ${round(jobs / p2.keycloakPerSecond, 2)}× (Keycloak CPU ${round(jobsKeycloakMs)} ms against`,
      `  ${round(p2.keycloakOnlyCpuMsPerUser.keycloak ?? 0)} ms per user). That is the bound on P2 when Keycloak is the only limit.`,
    );
  }
  return lines;
}
