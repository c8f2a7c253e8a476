import { parseArgs, type ParseArgsConfig } from 'node:util';
import { ApiClient, ApiError, type JobView } from './api-client.js';
import { adoptCommand } from './commands/adopt.js';
import { credentialCommand } from './commands/credential.js';
import { kubeconfigCommand } from './commands/kubeconfig.js';
import { cohortCommand } from './commands/cohort.js';
import { processCommand } from './commands/process.js';
import { traineesCommand } from './commands/trainees.js';
import { USAGE, commandHelp, version } from './help.js';
import { EXIT, UsageError, paint, type CliIo } from './io.js';
import { progress } from './progress.js';
import { finished, waitForJob } from './wait.js';

export { USAGE };
/** The commands the CLI runs (each has its help in help.ts). */

const OPTIONS = {
  url: { type: 'string' },
  token: { type: 'string' },
  wait: { type: 'boolean' },
  json: { type: 'boolean' },
  timeout: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'V' },
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
  issuer: { type: 'string' },
  'client-id': { type: 'string' },
  output: { type: 'string', short: 'o' },
  state: { type: 'string' },
  'expires-before': { type: 'string' },
  'created-before': { type: 'string' },
  limit: { type: 'string' },
  cursor: { type: 'string' },
  name: { type: 'string' },
  csv: { type: 'string' },
  'expires-at': { type: 'string' },
  profile: { type: 'string' },
  out: { type: 'string' },
  cohort: { type: 'string' },
} satisfies ParseArgsConfig['options'];

export type CliValues = ReturnType<typeof parse>['values'];

function parse(argv: string[]) {
  return parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
}

/** Which options each command accepts besides the global ones. */
const ALLOWED: Record<string, { args: number | 'some'; options: (keyof typeof OPTIONS)[] }> = {
  create: { args: 2, options: ['expires-at', 'profile'] },
  delete: { args: 2, options: [] },
  reset: { args: 0, options: ['username', 'mode', 'username-prefix', 'cohort'] },
  cleanup: { args: 0, options: ['max-age-days', 'dry-run', 'username-prefix', 'confirm-mass-delete'] },
  sync: { args: 0, options: ['username', 'username-prefix', 'dry-run'] },
  status: { args: 1, options: [] },
  schedules: { args: 0, options: [] },
  process: { args: 0, options: ['prefix'] },
  adopt: { args: 0, options: ['email-domain', 'username-prefix', 'dry-run', 'yes', 'all'] },
  kubeconfig: { args: 1, options: ['output'] },
  credential: { args: 0, options: ['issuer', 'client-id', 'username'] },
  // A subcommand and its arguments, checked by the command.
  trainees: { args: 'some', options: ['prefix', 'state', 'expires-before', 'created-before', 'limit', 'cursor', 'all', 'out'] },
  /** `cohort <subcommand> [name]`: the subcommand checks its own arguments (-1). */
  cohort: { args: -1, options: ['name', 'csv', 'expires-at', 'profile', 'out'] },
};
const GLOBAL = new Set(['url', 'token', 'wait', 'json', 'timeout', 'help', 'version']);

function integer(value: string | undefined, name: string, min = 0): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value) || Number(value) < min) throw new UsageError(`--${name} must be a whole number ≥ ${min}`);
  return Number(value);
}

export function apiFrom(values: CliValues, io: Pick<CliIo, 'env' | 'err'>): ApiClient {
  const url = values.url ?? io.env.PROVISIONER_URL;
  const token = values.token ?? io.env.PROVISIONER_TOKEN;
  if (!url) throw new UsageError('no API URL: set PROVISIONER_URL or pass --url');
  if (!token) throw new UsageError('no API token: set PROVISIONER_TOKEN or pass --token');
  // The token opens every trainee's playground: say where it is exposed (still served, for scripts that pass it).
  if (values.token !== undefined) io.err('warning: --token shows the API token to every user of this machine (ps) and in shell history; set PROVISIONER_TOKEN instead');
  if (isPlainHttpToAnotherHost(url)) io.err(`warning: ${new URL(url).origin} is plain HTTP: the API token and the passwords in answers cross the network unencrypted`);
  return new ApiClient(url, token);
}

function isPlainHttpToAnotherHost(url: string): boolean {
  try {
    const { protocol, hostname } = new URL(url);
    return protocol === 'http:' && !['localhost', '127.0.0.1', '[::1]'].includes(hostname);
  } catch {
    return false;
  }
}

/**
 * Prints a job and returns the exit code it means: 1 failed, 3 not finished although the
 * caller waited for it (`waited`), else 0.
 */
export function report(view: JobView, io: CliIo, json: boolean, waited = false): number {
  if (json) io.out(JSON.stringify(view, null, 2));
  else if (view.state === 'completed') io.out(humanResult(view, io));
  else if (view.state === 'failed') io.err(`${view.type} ${view.id} ${paint(io, 'red', 'failed')}: ${view.error?.code ?? 'INTERNAL'}: ${view.error?.message ?? ''}`);
  else io.out(`${view.type} ${view.id}: ${view.state} (${view.progress.step} ${view.progress.done}/${view.progress.total})`);
  if (view.state === 'failed') return EXIT.failed;
  return waited && !finished(view) ? EXIT.timedOut : EXIT.ok;
}

function humanResult(view: JobView, io: CliIo): string {
  const r = view.result ?? {};
  const lines = [`${view.type} ${view.id}: ${paint(io, 'green', 'completed')}`];
  for (const [key, value] of Object.entries(r)) {
    lines.push(`  ${key}: ${typeof value === 'object' ? JSON.stringify(value) : String(value)}`);
  }
  // Completed, as a delete of nothing is done: said plainly, since a mistyped email looks the same.
  if (view.type === 'delete' && r.found === false) lines.push(paint(io, 'yellow', `  no trainee under ${String(r.username)}: nothing was deleted (check the email and name)`));
  return lines.join('\n');
}

/** Waits for a job with its progress shown; the exit code of how it ended (3: still running at the timeout). */
async function follow(api: ApiClient, io: CliIo, values: CliValues, jobId: string): Promise<number> {
  const shown = progress(io);
  const view = await waitForJob(api, jobId, { timeoutMs: (integer(values.timeout, 'timeout', 1) ?? 900) * 1000, onProgress: (v) => shown.update(v) })
    .finally(() => shown.end());
  if (!finished(view)) io.err(`still ${view.state} after the timeout: the job goes on (provisioner status ${jobId} --wait)`);
  return report(view, io, values.json ?? false, true);
}

/** After an enqueue (202 {jobId}): waits if asked, and reports. */
async function submitted(api: ApiClient, io: CliIo, values: CliValues, what: string, answer: { jobId: string; alreadyPending?: boolean }): Promise<number> {
  const { jobId } = answer;
  if (answer.alreadyPending) io.err(`a ${what} run is already pending: following job ${jobId}`);
  if (!values.wait) {
    io.out(values.json ? JSON.stringify(answer) : `enqueued ${jobId} (provisioner status ${jobId} --wait)`);
    return EXIT.ok;
  }
  return follow(api, io, values, jobId);
}

const isResetMode = (mode: string): mode is 'recreate' | 'purge' => mode === 'recreate' || mode === 'purge';

async function dispatch(command: string, positionals: string[], values: CliValues, io: CliIo): Promise<number> {
  // Requests and answers typed by the API's OpenAPI document (api-client.ts).
  switch (command) {
    case 'create':
    case 'delete': {
      const [email, fullName] = positionals as [string, string];
      const api = apiFrom(values, io);
      const expiresAt = values['expires-at'];
      const { profile } = values;
      const answer = command === 'create'
        ? await api.send([202], 'post', '/provisioner', { body: { email, full_name: fullName, ...(expiresAt ? { expiresAt } : {}), ...(profile ? { profile } : {}) } })
        : await api.send([202], 'delete', '/provisioner', { body: { email, full_name: fullName } });
      return submitted(api, io, values, command, answer);
    }
    case 'reset': {
      const mode = values.mode;
      if (mode !== undefined && !isResetMode(mode)) throw new UsageError('--mode is recreate or purge');
      const api = apiFrom(values, io);
      const body = { username: values.username, mode, usernamePrefix: values['username-prefix'], cohort: values.cohort };
      return submitted(api, io, values, 'reset', await api.send([202], 'post', '/reset', { body }));
    }
    case 'cleanup': {
      const api = apiFrom(values, io);
      const body = {
        maxAgeDays: integer(values['max-age-days'], 'max-age-days'),
        dryRun: values['dry-run'],
        usernamePrefix: values['username-prefix'],
        confirmMassDelete: values['confirm-mass-delete'],
      };
      return submitted(api, io, values, 'cleanup', await api.send([202], 'post', '/cleanup', { body }));
    }
    case 'sync': {
      const api = apiFrom(values, io);
      const body = { username: values.username, usernamePrefix: values['username-prefix'], dryRun: values['dry-run'] };
      return submitted(api, io, values, 'sync', await api.send([202], 'post', '/sync', { body }));
    }
    case 'status': {
      const api = apiFrom(values, io);
      const id = positionals[0] as string;
      return values.wait ? follow(api, io, values, id) : report(await api.job(id), io, values.json ?? false);
    }
    case 'schedules': {
      const body = await apiFrom(values, io).send([200], 'get', '/schedules');
      if (values.json) io.out(JSON.stringify(body, null, 2));
      else if (body.schedules.length === 0) io.out('no schedules');
      else for (const s of body.schedules) io.out(`${s.id.padEnd(8)} ${String(s.pattern).padEnd(14)} ${s.tz.padEnd(14)} next ${s.next ?? '-'}`);
      return EXIT.ok;
    }
    case 'cohort': {
      const api = apiFrom(values, io);
      const options = { name: values.name, csv: values.csv, expiresAt: values['expires-at'], profile: values.profile, out: values.out, json: values.json ?? false };
      return cohortCommand(api, io, positionals, options, (answer, what) => submitted(api, io, values, what, answer));
    }
    case 'process':
      return processCommand(apiFrom(values, io), io, { prefix: values.prefix, json: values.json ?? false });
    case 'adopt':
      return adoptCommand(io, {
        emailDomain: values['email-domain'],
        usernamePrefix: values['username-prefix'],
        dryRun: values['dry-run'] ?? false,
        yes: values.yes ?? false,
        all: values.all ?? false,
        json: values.json ?? false,
      });
    case 'kubeconfig':
      return kubeconfigCommand(apiFrom(values, io), io, positionals[0] as string, values.output);
    case 'trainees':
      return traineesCommand(apiFrom(values, io), io, positionals, {
        json: values.json ?? false,
        prefix: values.prefix,
        state: values.state,
        expiresBefore: values['expires-before'],
        createdBefore: values['created-before'],
        limit: integer(values.limit, 'limit', 1),
        cursor: values.cursor,
        all: values.all ?? false,
        wait: values.wait ?? false,
        out: values.out,
        timeoutMs: (integer(values.timeout, 'timeout', 1) ?? 900) * 1000,
      });
    case 'credential':
      return credentialCommand(io, { issuer: values.issuer, clientId: values['client-id'], username: values.username });
    default:
      throw new UsageError(`unknown command "${command}"`);
  }
}

/** Runs one CLI invocation; returns the exit code (0 done, 1 failed, 2 usage, 3 --wait timed out). */
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
    if (values.version) {
      io.out(`provisioner ${version()}`);
      return EXIT.ok;
    }
    // `provisioner help [command]`, `provisioner <command> --help`.
    const helpOf = command === 'help' ? rest[0] : values.help ? command : undefined;
    if (command === 'help' || values.help || !command) {
      if (helpOf !== undefined) {
        const text = commandHelp(helpOf);
        if (!text) throw new UsageError(`unknown command "${helpOf}"`);
        io.out(text);
        return EXIT.ok;
      }
      io.out(USAGE);
      return command === 'help' || values.help ? EXIT.ok : EXIT.usage;
    }
    const spec = ALLOWED[command];
    if (!spec) throw new UsageError(`unknown command "${command}"`);
    if (typeof spec.args === 'number' && spec.args >= 0 && rest.length !== spec.args) throw new UsageError(`${command} takes ${spec.args} argument(s), got ${rest.length}`);
    const stray = Object.keys(values).filter((name) => !GLOBAL.has(name) && !spec.options.includes(name as keyof typeof OPTIONS));
    if (stray.length) throw new UsageError(`${command} does not take ${stray.map((s) => `--${s}`).join(', ')}`);
    return await dispatch(command, rest, values, io);
  } catch (error) {
    if (error instanceof UsageError) {
      const command = argv.find((a) => !a.startsWith('-'));
      io.err(`${error.message}\n\n${(command && commandHelp(command)) || USAGE}`);
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
