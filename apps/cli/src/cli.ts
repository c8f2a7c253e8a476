import { parseArgs, type ParseArgsConfig } from 'node:util';
import { ApiClient, ApiError, type JobView } from './api-client.js';
import { adoptCommand } from './commands/adopt.js';
import { processCommand } from './commands/process.js';
import { EXIT, UsageError, type CliIo } from './io.js';
import { waitForJob } from './wait.js';

export const USAGE = `Usage: provisioner <command> [options]

Commands (talk to the API at PROVISIONER_URL with PROVISIONER_TOKEN, or --url/--token):
  create <email> <full_name>        provision a trainee
  delete <email> <full_name>        remove a trainee
  reset [--username U] [--mode recreate|purge]
  cleanup [--max-age-days N] [--dry-run] [--confirm-mass-delete]
                                    (needed when it would delete more than CLEANUP_MAX_SHARE_WITHOUT_CONFIRM)
  sync [--username U]
  status <jobId>                    a job's state, progress and result
  schedules                         the job schedulers and their next run
  process [--prefix P]              the old test client's full scenario, checked in every system
  adopt (--email-domain D | --username-prefix P | --all) [--dry-run] [--yes]
                                    mark existing Keycloak users as managed (uses the worker's env);
                                    --all: every user of the realm

Options:
  --wait            wait for the job to end, showing progress (on stderr)
  --json            machine-readable output on stdout
  --timeout S       longest wait in seconds (default 900)
  --username-prefix P  (reset, cleanup, sync) only users whose name starts with P
  --url U, --token T

Exit codes: 0 done, 1 failed, 2 usage.`;

const OPTIONS = {
  url: { type: 'string' },
  token: { type: 'string' },
  wait: { type: 'boolean' },
  json: { type: 'boolean' },
  timeout: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
  username: { type: 'string' },
  mode: { type: 'string' },
  'max-age-days': { type: 'string' },
  'dry-run': { type: 'boolean' },
  'username-prefix': { type: 'string' },
  'email-domain': { type: 'string' },
  prefix: { type: 'string' },
  yes: { type: 'boolean', short: 'y' },
  all: { type: 'boolean' },
  'confirm-mass-delete': { type: 'boolean' },
} satisfies ParseArgsConfig['options'];

export type CliValues = ReturnType<typeof parse>['values'];

function parse(argv: string[]) {
  return parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
}

/** Which options each command accepts besides the global ones. */
const ALLOWED: Record<string, { args: number; options: (keyof typeof OPTIONS)[] }> = {
  create: { args: 2, options: [] },
  delete: { args: 2, options: [] },
  reset: { args: 0, options: ['username', 'mode', 'username-prefix'] },
  cleanup: { args: 0, options: ['max-age-days', 'dry-run', 'username-prefix', 'confirm-mass-delete'] },
  sync: { args: 0, options: ['username', 'username-prefix'] },
  status: { args: 1, options: [] },
  schedules: { args: 0, options: [] },
  process: { args: 0, options: ['prefix'] },
  adopt: { args: 0, options: ['email-domain', 'username-prefix', 'dry-run', 'yes', 'all'] },
};
const GLOBAL = new Set(['url', 'token', 'wait', 'json', 'timeout', 'help']);

function integer(value: string | undefined, name: string, min = 0): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value) || Number(value) < min) throw new UsageError(`--${name} must be a whole number ≥ ${min}`);
  return Number(value);
}

export function apiFrom(values: CliValues, env: NodeJS.ProcessEnv): ApiClient {
  const url = values.url ?? env.PROVISIONER_URL;
  const token = values.token ?? env.PROVISIONER_TOKEN;
  if (!url) throw new UsageError('no API URL: set PROVISIONER_URL or pass --url');
  if (!token) throw new UsageError('no API token: set PROVISIONER_TOKEN or pass --token');
  return new ApiClient(url, token);
}

/** Prints a finished (or pending) job and returns the exit code it means. */
export function report(view: JobView, io: CliIo, json: boolean): number {
  if (json) io.out(JSON.stringify(view, null, 2));
  else if (view.state === 'completed') io.out(humanResult(view));
  else if (view.state === 'failed') io.err(`${view.type} ${view.id} failed: ${view.error?.code ?? 'INTERNAL'}: ${view.error?.message ?? ''}`);
  else io.out(`${view.type} ${view.id}: ${view.state} (${view.progress.step} ${view.progress.done}/${view.progress.total})`);
  return view.state === 'failed' ? EXIT.failed : EXIT.ok;
}

function humanResult(view: JobView): string {
  const r = view.result ?? {};
  const lines = [`${view.type} ${view.id}: completed`];
  for (const [key, value] of Object.entries(r)) {
    lines.push(`  ${key}: ${typeof value === 'object' ? JSON.stringify(value) : String(value)}`);
  }
  return lines.join('\n');
}

/** Enqueues (the answer is 202 {jobId}), then waits if asked, and reports. */
async function submit(api: ApiClient, io: CliIo, values: CliValues, method: 'POST' | 'DELETE', path: string, body: object | undefined): Promise<number> {
  const { body: answer } = await api.expect([202], method, path, body);
  const { jobId, alreadyPending } = answer as { jobId: string; alreadyPending?: boolean };
  if (alreadyPending) io.err(`a ${path} run is already pending: following job ${jobId}`);
  if (!values.wait) {
    io.out(values.json ? JSON.stringify(answer) : `enqueued ${jobId} (provisioner status ${jobId} --wait)`);
    return EXIT.ok;
  }
  const view = await waitForJob(api, jobId, { timeoutMs: (integer(values.timeout, 'timeout', 1) ?? 900) * 1000, onProgress: (line) => io.err(line) });
  if (view.state !== 'completed' && view.state !== 'failed') {
    io.err(`still ${view.state} after the timeout`);
    report(view, io, values.json ?? false);
    return EXIT.failed;
  }
  return report(view, io, values.json ?? false);
}

async function dispatch(command: string, positionals: string[], values: CliValues, io: CliIo): Promise<number> {
  switch (command) {
    case 'create':
    case 'delete': {
      const [email, fullName] = positionals as [string, string];
      return submit(apiFrom(values, io.env), io, values, command === 'create' ? 'POST' : 'DELETE', 'provisioner', { email, full_name: fullName });
    }
    case 'reset': {
      if (values.mode !== undefined && values.mode !== 'recreate' && values.mode !== 'purge') throw new UsageError('--mode is recreate or purge');
      const body = { username: values.username, mode: values.mode, usernamePrefix: values['username-prefix'] };
      return submit(apiFrom(values, io.env), io, values, 'POST', 'reset', body);
    }
    case 'cleanup': {
      const body = {
        maxAgeDays: integer(values['max-age-days'], 'max-age-days'),
        dryRun: values['dry-run'],
        usernamePrefix: values['username-prefix'],
        confirmMassDelete: values['confirm-mass-delete'],
      };
      return submit(apiFrom(values, io.env), io, values, 'POST', 'cleanup', body);
    }
    case 'sync':
      return submit(apiFrom(values, io.env), io, values, 'POST', 'sync', { username: values.username, usernamePrefix: values['username-prefix'] });
    case 'status': {
      const api = apiFrom(values, io.env);
      const id = positionals[0] as string;
      const view = values.wait
        ? await waitForJob(api, id, { timeoutMs: (integer(values.timeout, 'timeout', 1) ?? 900) * 1000, onProgress: (line) => io.err(line) })
        : await api.job(id);
      return report(view, io, values.json ?? false);
    }
    case 'schedules': {
      const { body } = await apiFrom(values, io.env).expect([200], 'GET', 'schedules');
      const { schedules } = body as { schedules: { id: string; pattern: string | null; tz: string; next: string | null }[] };
      if (values.json) io.out(JSON.stringify(body, null, 2));
      else if (schedules.length === 0) io.out('no schedules');
      else for (const s of schedules) io.out(`${s.id.padEnd(8)} ${String(s.pattern).padEnd(14)} ${s.tz.padEnd(14)} next ${s.next ?? '-'}`);
      return EXIT.ok;
    }
    case 'process':
      return processCommand(apiFrom(values, io.env), io, { prefix: values.prefix, json: values.json ?? false });
    case 'adopt':
      return adoptCommand(io, {
        emailDomain: values['email-domain'],
        usernamePrefix: values['username-prefix'],
        dryRun: values['dry-run'] ?? false,
        yes: values.yes ?? false,
        all: values.all ?? false,
        json: values.json ?? false,
      });
    default:
      throw new UsageError(`unknown command "${command}"`);
  }
}

/** Runs one CLI invocation; returns the exit code (0 done, 1 failed, 2 usage). */
export async function run(argv: string[], io: CliIo): Promise<number> {
  try {
    let parsed: ReturnType<typeof parse>;
    try {
      parsed = parse(argv);
    } catch (error) {
      throw new UsageError(error instanceof Error ? error.message : String(error));
    }
    const { values, positionals } = parsed;
    const [command, ...rest] = positionals;
    if (values.help || !command) {
      io.out(USAGE);
      return values.help ? EXIT.ok : EXIT.usage;
    }
    const spec = ALLOWED[command];
    if (!spec) throw new UsageError(`unknown command "${command}"`);
    if (rest.length !== spec.args) throw new UsageError(`${command} takes ${spec.args} argument(s), got ${rest.length}`);
    const stray = Object.keys(values).filter((name) => !GLOBAL.has(name) && !spec.options.includes(name as keyof typeof OPTIONS));
    if (stray.length) throw new UsageError(`${command} does not take ${stray.map((s) => `--${s}`).join(', ')}`);
    return await dispatch(command, rest, values, io);
  } catch (error) {
    if (error instanceof UsageError) {
      io.err(`${error.message}\n\n${USAGE}`);
      return EXIT.usage;
    }
    if (error instanceof ApiError) {
      io.err(`error: ${error.message}`);
      return error.status === 400 ? EXIT.usage : EXIT.failed;
    }
    io.err(`error: ${error instanceof Error ? error.message : String(error)}`);
    return EXIT.failed;
  }
}
