import type { ApiClient } from '../api-client.js';
import type { components } from '../generated/api.js';
import { EXIT, UsageError, paint, type CliIo } from '../io.js';
import { resetPasswordCommand } from './trainee-password.js';

type TraineePage = components['schemas']['TraineePage'];
type TraineeSummary = components['schemas']['TraineeSummary'];
type Trainee = components['schemas']['Trainee'];

export interface TraineesOptions {
  json: boolean;
  prefix?: string | undefined;
  state?: string | undefined;
  expiresBefore?: string | undefined;
  createdBefore?: string | undefined;
  limit?: number | undefined;
  cursor?: string | undefined;
  /** Follow the cursors to the last page. */
  all: boolean;
  /** `extend`, `profile`: hold until the job ends (`Prefer: wait`). */
  wait: boolean;
  /** `reset-password`: write the new password to this file (new, mode 0600). */
  out?: string | undefined;
  /** `reset-password`: the longest wait for its job (--timeout). */
  timeoutMs?: number | undefined;
}

/** Columns padded to their widest cell: for people at a terminal. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((title, i) => Math.max(title.length, ...rows.map((row) => (row[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join('  ').trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

const day = (iso: string | null): string => (iso ? iso.slice(0, 10) : '-');

function summaryRows(items: TraineeSummary[]): string[][] {
  return items.map((t) => [t.username, t.email ?? '-', t.fullName ?? '-', day(t.created), day(t.expires), t.provisioned ? 'provisioned' : 'incomplete']);
}

async function list(api: ApiClient, io: CliIo, options: TraineesOptions): Promise<number> {
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries({ prefix: options.prefix, state: options.state, expiresBefore: options.expiresBefore, createdBefore: options.createdBefore })) {
    if (value !== undefined) query.set(name, value);
  }
  if (options.limit !== undefined) query.set('limit', String(options.limit));
  const items: TraineeSummary[] = [];
  let cursor = options.cursor ?? null;
  do {
    if (cursor) query.set('cursor', cursor);
    const page = (await api.expect([200], 'GET', `trainees?${query}`)).body as TraineePage;
    items.push(...page.items);
    cursor = page.nextCursor;
  } while (options.all && cursor);

  if (options.json) io.out(JSON.stringify({ items, nextCursor: cursor }, null, 2));
  else if (io.outIsTerminal) io.out(table(['USERNAME', 'EMAIL', 'NAME', 'CREATED', 'EXPIRES', 'STATE'], summaryRows(items)));
  // Off a terminal: one trainee per line, tab-separated, for scripts (cut, awk).
  else for (const row of summaryRows(items)) io.out(row.join('\t'));
  if (!options.json && cursor) io.err(`more trainees: --all, or --cursor ${cursor}`);
  return EXIT.ok;
}

function describe(t: Trainee, io: CliIo): string {
  const k = t.keycloak;
  const ns = t.namespace;
  const state = (s: string) => paint(io, s === 'current' || s === 'ok' ? 'green' : 'red', s);
  const lines = [
    `${t.username}  ${k.fullName ?? ''} <${k.email ?? '-'}>`,
    `  keycloak   ${k.attributes.provisioned ? 'provisioned' : 'incomplete'}, ${k.enabled ? 'enabled' : 'disabled'}, created ${k.created}, expires ${k.attributes.expiresAt ?? 'never'}`,
    `  namespace  ${ns ? `${ns.name} (${ns.phase})${ns.drift.length ? `, drift: ${ns.drift.join(', ')}` : ''}` : paint(io, 'red', 'missing')}`,
    ...(ns?.fittings ?? []).map((f) => `    ${f.kind.padEnd(14)} ${f.name.padEnd(24)} ${state(f.state)}${f.drift?.length ? ` (${f.drift.join(', ')})` : ''}`),
    `  grafana    ${state(t.grafana.state)}${t.grafana.account ? ` (id ${t.grafana.account.id}, ${t.grafana.account.login})` : ''}`,
    '  jobs',
    ...t.jobs.map((j) => `    ${j.id.padEnd(40)} ${j.state.padEnd(10)} ${j.dueAt ? `due ${j.dueAt}` : (j.finishedAt ?? j.createdAt)}${j.error ? `  ${j.error.code}: ${j.error.message}` : ''}`),
  ];
  return lines.join('\n');
}

/**
 * `provisioner trainees list|show|extend|profile|reset-password`: the trainee API. A table on a terminal,
 * tab-separated lines elsewhere, `--json` for the API's own answer.
 */
export async function traineesCommand(api: ApiClient, io: CliIo, args: string[], options: TraineesOptions): Promise<number> {
  const [sub, username, value] = args;
  const arity = { list: 1, show: 2, extend: 3, profile: 3, 'reset-password': 2 }[sub ?? ''];
  if (arity === undefined) throw new UsageError('trainees takes a subcommand: list, show <username>, extend <username> <expiresAt>, profile <username> <profile> or reset-password <username>');
  if (args.length !== arity) throw new UsageError(`trainees ${sub} takes ${arity - 1} argument(s)`);
  if (options.out !== undefined && sub !== 'reset-password') throw new UsageError('--out is for trainees reset-password');
  const path = `trainees/${encodeURIComponent(username ?? '')}`;

  if (sub === 'list') return list(api, io, options);
  if (sub === 'reset-password') return resetPasswordCommand(api, io, username ?? '', { json: options.json, out: options.out, timeoutMs: options.timeoutMs ?? 900_000 });
  if (sub === 'show') {
    const trainee = (await api.expect([200], 'GET', path)).body as Trainee;
    io.out(options.json ? JSON.stringify(trainee, null, 2) : describe(trainee, io));
    return EXIT.ok;
  }
  const headers: Record<string, string> = options.wait ? { prefer: 'wait=60' } : {};
  const response = await api.call('PATCH', path, sub === 'profile' ? { profile: value } : { expiresAt: value }, headers);
  const body = response.body as { message?: string; code?: string; jobId?: string; expiresAt?: string; profile?: string; previous?: string | null };
  if (response.status === 400) throw new UsageError(`${body.message ?? 'bad request'}`);
  if (response.status !== 200 && response.status !== 202) {
    io.err(`error: ${body.message ?? `HTTP ${response.status}`}${body.code ? ` (${body.code})` : ''}`);
    return EXIT.failed;
  }
  if (options.json) io.out(JSON.stringify(body, null, 2));
  else if (response.status === 200 && sub === 'profile') io.out(`${username}: profile ${body.profile} (was ${body.previous ?? 'none'})`);
  else if (response.status === 200) io.out(`${username}: expires ${body.expiresAt} (was ${body.previous ?? 'never'})`);
  else io.out(`enqueued ${body.jobId} (provisioner status ${body.jobId} --wait)`);
  return EXIT.ok;
}
