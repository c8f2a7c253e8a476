import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { stackPath } from './paths.js';

export const log = (message: string): void => {
  const time = new Date().toISOString().slice(11, 19);
  process.stderr.write(`[stack ${time}] ${message}\n`);
};

export const pidFile = (name: string): string => stackPath('pids', `${name}.pid`);
export const logFile = (name: string): string => stackPath('logs', `${name}.log`);

export function readPid(name: string): number | undefined {
  if (!existsSync(pidFile(name))) return undefined;
  const pid = Number.parseInt(readFileSync(pidFile(name), 'utf8').trim(), 10);
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
  } catch {
    return '';
  }
}

function isZombie(pid: number): boolean {
  try {
    return /\)\s+Z\s/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return true;
  }
}

/** The pid is alive and still runs the command we started (not a recycled pid). */
export function isRunning(pid: number | undefined, marker: string): pid is number {
  if (pid === undefined) return false;
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  return !isZombie(pid) && cmdline(pid).includes(marker);
}

export interface StartSpec {
  name: string;
  command: string;
  args: string[];
  env?: Record<string, string | undefined>;
  cwd?: string;
}

/** Starts a server detached in its own process group, output appended to .stack/logs/<name>.log. */
export function startProcess(spec: StartSpec): number {
  mkdirSync(stackPath('pids'), { recursive: true });
  mkdirSync(stackPath('logs'), { recursive: true });
  const out = openSync(logFile(spec.name), 'a');
  writeFileSync(out, `\n===== ${new Date().toISOString()} ${spec.command} ${spec.args.join(' ')}\n`);
  const child = spawn(spec.command, spec.args, {
    cwd: spec.cwd,
    env: { ...process.env, ...spec.env },
    detached: true,
    stdio: ['ignore', out, out],
  });
  closeSync(out);
  if (child.pid === undefined) throw new Error(`could not start ${spec.name} (${spec.command})`);
  child.unref();
  writeFileSync(pidFile(spec.name), `${child.pid}\n`);
  return child.pid;
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      /* already gone */
    }
  }
}

function groupAlive(pid: number): boolean {
  try {
    process.kill(-pid, 0);
    return true;
  } catch {
    return !isZombie(pid) && existsSync(`/proc/${pid}`);
  }
}

/** SIGTERM to the process group, SIGKILL after the deadline; removes the pid file. */
export async function stopProcess(name: string, marker: string, graceMs = 15_000): Promise<boolean> {
  const pid = readPid(name);
  if (!isRunning(pid, marker)) {
    rmSync(pidFile(name), { force: true });
    return false;
  }
  signalGroup(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (groupAlive(pid) && Date.now() < deadline) await delay(100);
  if (groupAlive(pid)) {
    log(`${name} still running ${graceMs / 1000}s after SIGTERM: SIGKILL`);
    signalGroup(pid, 'SIGKILL');
    const killDeadline = Date.now() + 5_000;
    while (groupAlive(pid) && Date.now() < killDeadline) await delay(100);
  }
  rmSync(pidFile(name), { force: true });
  return true;
}

export const delay = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Polls `check` until it returns true; fails after the deadline, or at once when the
 * process died (with the tail of its log).
 */
export async function waitFor(
  what: string,
  check: () => Promise<boolean>,
  opts: { timeoutMs: number; name?: string; marker?: string; intervalMs?: number },
): Promise<void> {
  const deadline = Date.now() + opts.timeoutMs;
  for (;;) {
    if (await check().catch(() => false)) return;
    if (opts.name && opts.marker && !isRunning(readPid(opts.name), opts.marker)) {
      throw new Error(`${what}: process exited.\n${tailLog(opts.name)}`);
    }
    if (Date.now() > deadline) {
      throw new Error(`${what}: not ready after ${opts.timeoutMs / 1000}s.${opts.name ? '\n' + tailLog(opts.name) : ''}`);
    }
    await delay(opts.intervalMs ?? 500);
  }
}

export function tailLog(name: string, lines = 25): string {
  if (!existsSync(logFile(name))) return '';
  const text = readFileSync(logFile(name), 'utf8').trimEnd().split('\n');
  return `--- last lines of ${logFile(name)} ---\n${text.slice(-lines).join('\n')}`;
}

/** Runs a command to completion, its output on stderr; rejects on a non-zero exit. */
export function run(command: string, args: string[], cwd?: string, env?: Record<string, string>): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(command, args, {
      cwd,
      env: { ...process.env, ...env },
      stdio: ['ignore', process.stderr, process.stderr],
    });
    child.on('error', (error) => reject(new Error(`${command}: ${error.message}`)));
    child.on('exit', (code) =>
      code === 0 ? resolvePromise() : reject(new Error(`${command} ${args.join(' ')} exited with ${code}`)),
    );
  });
}
