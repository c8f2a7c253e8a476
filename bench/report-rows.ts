// The table of docs/benchmarks.md: one row per issue-19 target (met or not met, by the
// ratio to a baseline measured in the same run), and rows marked as information only.
import type { CohortFigures } from './p6-cohort.js';
import type { EnqueueFigures, ServerFigures } from './p1-enqueue.js';
import type { CreateFigures } from './p2-creates.js';
import type { ResetFigures, ResetRun } from './p3-reset.js';
import type { WorkerMemoryFigures } from './p4-worker-memory.js';
import type { ScaleFigures } from './p5-scale.js';
import { round } from './lib.js';

export interface Row {
  id: string;
  what: string;
  value: string;
  baseline: string;
  ratio: string;
  target: string;
  /** Whether the target is met; undefined: a figure given for information, with no target. */
  met: boolean | undefined;
}

export interface Figures {
  p1?: EnqueueFigures | undefined;
  p2?: CreateFigures | undefined;
  p3?: ResetFigures | undefined;
  p4?: WorkerMemoryFigures | undefined;
  p5?: ScaleFigures | undefined;
  p6?: CohortFigures | undefined;
}

const x = (ratio: number) => `${round(ratio, 2)}×`;

/** A P1 server's figures as the table gives them. */
const served = (figures: ServerFigures) => `${figures.rps} req/s, p99 ${figures.p99Ms} ms`;

/** One P1 server against another: the rate and p99 ratios, and the columns that show them. */
function versus(ours: ServerFigures, base: ServerFigures) {
  const rate = ours.rps / base.rps;
  const p99 = ours.p99Ms / Math.max(0.01, base.p99Ms);
  return { rate, p99, columns: { value: served(ours), baseline: served(base), ratio: `${x(rate)} req/s, ${x(p99)} p99` } };
}

export function p1Rows(p1: EnqueueFigures): Row[] {
  const rows: Row[] = [];
  const queue = p1.enqueueOnly;
  if (queue) {
    const { rate, p99, columns } = versus(p1.api, queue);
    rows.push({ id: 'P1', what: 'POST /provisioner, full API vs a route doing one BullMQ add (50 connections)', ...columns, target: '≥ 0.9× req/s and p99 ≤ 1.5×', met: rate >= 0.9 && p99 <= 1.5 });
    rows.push({ id: 'P1+', what: 'the same, beyond the queue\'s own cost', ...columns, target: '≥ 1.0× req/s', met: rate >= 1.0 });
  }
  if (p1.naive) {
    rows.push({ id: 'P1n', what: 'POST /provisioner, full API vs the same features written the plain way', ...versus(p1.api, p1.naive).columns, target: 'information', met: undefined });
  }
  if (p1.floor && queue) {
    rows.push({ id: 'P1f', what: 'POST /provisioner, the API with its queue taken away vs the one-add route', ...versus(p1.floor, queue).columns, target: 'information', met: undefined });
  }
  const bare = p1.api.rps / p1.bare.rps;
  rows.push({ id: 'P1i', what: 'POST /provisioner, full API vs a bare route answering 202', value: served(p1.api), baseline: served(p1.bare), ratio: x(bare), target: 'information', met: undefined });
  return rows;
}

export function p2Rows(p2: CreateFigures): Row[] {
  const rows: Row[] = [];
  if (p2.keycloakJobCallsPerSecond !== undefined) {
    const ratio = p2.keycloakJobCallsPerSecond / p2.keycloakPerSecond;
    rows.push({ id: 'P2a', what: 'a create job\'s own Keycloak calls vs bare creates with password (Keycloak alone, same concurrency)', value: `${p2.keycloakJobCallsPerSecond}/s`, baseline: `${p2.keycloakPerSecond}/s`, ratio: x(ratio), target: '≥ 0.9×', met: ratio >= 0.9 });
  }
  const worker = p2.cpuMsPerTrainee?.worker;
  const keycloak = p2.keycloakOnlyCpuMsPerUser?.keycloak;
  if (worker !== undefined && keycloak !== undefined && keycloak > 0) {
    const ratio = worker / keycloak;
    rows.push({ id: 'P2b', what: 'worker CPU per trainee vs Keycloak CPU per bare create', value: `${worker} ms`, baseline: `${keycloak} ms`, ratio: x(ratio), target: '≤ 0.25×', met: ratio <= 0.25 });
  }
  const e2e = p2.e2ePerSecond / p2.keycloakPerSecond;
  rows.push({ id: 'P2i', what: `trainees provisioned/s end to end vs bare Keycloak creates/s (${p2.creates} each, shared cores)`, value: `${p2.e2ePerSecond}/s`, baseline: `${p2.keycloakPerSecond}/s`, ratio: x(e2e), target: 'information', met: undefined });
  return rows;
}

const RBAC_NAMES = { admin: 'the stack admin\'s rights', shipped: 'the RBAC we ship (k8s/base)', inventory: 'k8s/base + purge-inventory' } as const;

export function p3Rows(p3: ResetFigures): Row[] {
  const runs: ResetRun[] = [p3, ...(p3.also ?? [])];
  return runs.map((run) => {
    const speedup = p3.oldSeconds / run.newSeconds;
    return {
      id: run.workerRbac === 'admin' ? 'P3' : run.workerRbac === 'shipped' ? 'P3s' : 'P3i',
      what: `reset of ${p3.namespaces} namespaces, POST /reset purge vs the old algorithm; worker with ${RBAC_NAMES[run.workerRbac]}`,
      value: `${run.newSeconds} s`,
      baseline: `${p3.oldSeconds} s (${p3.oldRequests} delete-collections)`,
      ratio: `${x(speedup)} faster`,
      target: '≥ 10× faster',
      met: speedup >= 10,
    };
  });
}

export function p4Rows(p4: WorkerMemoryFigures | undefined, p1: EnqueueFigures | undefined): Row[] {
  const rows: Row[] = [];
  if (p4) rows.push({ id: 'P4a', what: `worker RSS with ${p4.queued} queued jobs (peak over ${p4.seconds} s of work)`, value: `${p4.rssPeakMb} MB`, baseline: `${p4.rssStartMb} MB at start`, ratio: x(p4.rssPeakMb / Math.max(1, p4.rssStartMb)), target: '< 200 MB', met: p4.rssPeakMb < 200 });
  if (p1) rows.push({ id: 'P4b', what: 'API RSS under the P1 load (peak)', value: `${p1.api.rssPeakMb} MB`, baseline: '—', ratio: '—', target: '< 150 MB', met: p1.api.rssPeakMb < 150 });
  return rows;
}

export function p5Rows(p5: ScaleFigures): Row[] {
  const { small, large } = p5;
  const rows: Row[] = [];
  const perUser = (ms: number | undefined, users: number) => (ms === undefined ? undefined : (ms * 1000) / users);
  for (const [id, key, what] of [['P5a', 'syncMs', 'sync dry run'], ['P5b', 'cleanupMs', 'cleanup dry run'], ['P5c', 'traineesMs', 'GET /trainees, every page']] as const) {
    const a = perUser(small[key], small.users);
    const b = perUser(large[key], large.users);
    const missing = small.missing[key] ?? large.missing[key];
    const target = '≤ 1.2× per user';
    if (a === undefined || b === undefined) {
      rows.push({ id, what: `${what}: time per user, ${large.users} vs ${small.users} users`, value: `not measured: ${missing ?? 'no figure'}`, baseline: '—', ratio: '—', target, met: false });
      continue;
    }
    rows.push({ id, what: `${what}: time per user, ${large.users} vs ${small.users} users`, value: `${round(b)} µs`, baseline: `${round(a)} µs`, ratio: x(b / a), target, met: b / a <= 1.2 });
  }
  const growth = large.workerRssPeakMb - small.workerRssPeakMb;
  rows.push({ id: 'P5d', what: `worker peak RSS over those runs, ${large.users} vs ${small.users} users`, value: `${large.workerRssPeakMb} MB`, baseline: `${small.workerRssPeakMb} MB`, ratio: `${growth >= 0 ? '+' : ''}${round(growth)} MB`, target: '≤ +50 MB', met: growth <= 50 });
  return rows;
}

/** Each round's time per user, large against small, per measure: how far one round's ratio strays. */
export function p5RoundRatios(p5: ScaleFigures): string {
  const { small, large } = p5;
  const parts: string[] = [];
  for (const [key, what] of [['syncMs', 'sync'], ['cleanupMs', 'cleanup'], ['traineesMs', '`GET /trainees`']] as const) {
    const a = small.timesMs?.[key] ?? [];
    const b = large.timesMs?.[key] ?? [];
    const ratios = b.slice(0, a.length).map((ms, i) => x(ms / large.users / ((a[i] as number) / small.users)));
    if (ratios.length > 1) parts.push(`${what} ${ratios.join(', ')}`);
  }
  return parts.length ? parts.join('; ') : 'one round only';
}

/** Issue 16: a class made as one cohort against as many single creates, in the same run. */
export function p6Rows(p6: CohortFigures): Row[] {
  const ratio = p6.cohortSeconds / p6.singleSeconds;
  const failed = p6.cohortFailed + p6.singleFailed;
  const what = `a cohort of ${p6.trainees} (one flow) vs ${p6.trainees} single creates, concurrency ${p6.concurrency}${failed ? `, ${failed} failed` : ''}`;
  return [{ id: 'P6', what, value: `${p6.cohortSeconds} s`, baseline: `${p6.singleSeconds} s`, ratio: `${round(ratio, 2)}× the time`, target: '≤ 1.2×', met: ratio <= 1.2 && failed === 0 }];
}

/** One row per figure, with its baseline, ratio and target. */
export function rowsOf({ p1, p2, p3, p4, p5, p6 }: Figures): Row[] {
  return [
    ...(p1 ? p1Rows(p1) : []),
    ...(p2 ? p2Rows(p2) : []),
    ...(p3 ? p3Rows(p3) : []),
    ...p4Rows(p4, p1),
    ...(p5 ? p5Rows(p5) : []),
    ...(p6 ? p6Rows(p6) : []),
  ];
}
