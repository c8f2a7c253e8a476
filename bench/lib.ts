// Bench plumbing: the stack's env, child processes run from source, free ports, RSS
// and CPU sampling, Redis prefix clean-up, polling with deadlines.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { Agent, fetch } from 'undici';
import { dropPrefix as dropRedisPrefix } from '../test/helpers/redis.js';
import { stackPath } from '../tools/stack/src/paths.js';
import { mallocEnvFor, nodeFlagsFor } from './node-flags.js';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const LOG_DIR = join(ROOT, 'test-artifacts', 'bench');

/** Puts the local stack's env (`.stack/env`) in process.env; it wins over the shell's (e.g. NODE_EXTRA_CA_CERTS). */
export function loadStackEnv(): void {
  const file = stackPath('env');
  if (!existsSync(file)) throw new Error('the local stack is not up: run `npm run stack:up` first');
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const match = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (match?.[1]) process.env[match[1]] = match[2];
  }
}

export function env(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
}

let agent: Agent | undefined;
/** An undici dispatcher that trusts the stack CA (Keycloak's HTTPS). */
export function stackAgent(): Agent {
  agent ??= new Agent({ connect: { ca: readFileSync(env('STACK_CA_FILE'), 'utf8') }, connections: 16 });
  return agent;
}

/** A Keycloak admin token of the provisioner's client (client credentials); it lasts minutes. */
export async function keycloakAdminToken(): Promise<string> {
  const res = await fetch(`${env('KEYCLOAK_URL')}/realms/${env('KEYCLOAK_REALM')}/protocol/openid-connect/token`, {
    method: 'POST',
    dispatcher: stackAgent(),
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'client_credentials', client_id: env('KEYCLOAK_CLIENT_ID'), client_secret: env('KEYCLOAK_CLIENT_SECRET') }).toString(),
  });
  if (!res.ok) throw new Error(`keycloak token: ${res.status}`);
  return ((await res.json()) as { access_token: string }).access_token;
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export interface Child {
  process: ChildProcess;
  stop(): Promise<void>;
}

/** The servers the bench started and has not stopped yet: an interrupted run stops them first. */
export const liveChildren = new Set<Child>();

/**
 * Runs a built JavaScript entry with `node` and, by default, the Node flags its manifest gives it (the api's and
 * the worker's, bench/node-flags.ts; none for the bench's own servers), as deployed (`npm run bench` builds first
 * with `tsc -b`); output goes to a log file.
 */
export async function startChild(entry: string, childEnv: Record<string, string>, ready: RegExp, logName: string, nodeFlags = nodeFlagsFor(ROOT, entry)): Promise<Child> {
  mkdirSync(LOG_DIR, { recursive: true });
  const log = createWriteStream(join(LOG_DIR, `${logName}.log`));
  const env = { ...process.env, ...mallocEnvFor(ROOT, entry), ...childEnv };
  const child = spawn(process.execPath, [...nodeFlags, entry], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${logName} did not start in 60 s`)), 60_000);
    const onData = (chunk: Buffer) => {
      if (!ready.test(chunk.toString())) return;
      clearTimeout(timer);
      child.stdout?.off('data', onData);
      resolve();
    };
    child.stdout?.on('data', onData);
    child.once('exit', (code) => reject(new Error(`${logName} exited (${code}); see ${LOG_DIR}/${logName}.log`)));
  });
  const handle: Child = {
    process: child,
    async stop() {
      liveChildren.delete(handle);
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      await exited;
      clearTimeout(timer);
    },
  };
  liveChildren.add(handle);
  return handle;
}

/** Resident set size of a process in MB (Linux /proc). */
export function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return kb / 1024;
}

/** CPU time (user + system) a process has used so far, in seconds (Linux /proc, 100 ticks per second). */
export function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  // After "pid (comm) ": state is field 3, utime 14 and stime 15 (1-based).
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** CPU time (user + system) a process and all its descendants have used so far, in seconds. */
export function treeCpuSeconds(root: number): number {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const ppid = Number(readFileSync(`/proc/${entry}/stat`, 'utf8').split(') ')[1]?.split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
    } catch {
      // gone meanwhile
    }
  }
  let total = 0;
  const queue = [root];
  while (queue.length > 0) {
    const pid = queue.pop() as number;
    try {
      total += cpuSeconds(pid);
    } catch {
      continue;
    }
    queue.push(...(children.get(pid) ?? []));
  }
  return total;
}

/** The local stack's server processes (their pid files), by service name. */
export function stackPids(): Record<string, number> {
  const dir = stackPath('pids');
  return Object.fromEntries(
    readdirSync(dir)
      .filter((file) => file.endsWith('.pid'))
      .map((file) => [file.replace(/\.pid$/, ''), Number(readFileSync(join(dir, file), 'utf8').trim())]),
  );
}

/** CPU seconds used so far by each named process tree; `since` turns it into the CPU used in between. */
export function cpuSnapshot(pids: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(pids).map(([name, pid]) => [name, treeCpuSeconds(pid)]));
}

export function cpuSince(before: Record<string, number>, pids: Record<string, number>): Record<string, number> {
  const now = cpuSnapshot(pids);
  return Object.fromEntries(Object.entries(now).map(([name, seconds]) => [name, seconds - (before[name] ?? 0)]));
}

/**
 * Waits until the stack's servers (or the named ones) together spend under a tenth of a core
 * for two seconds running, at most `maxMs`; returns whether they did. A timed run then does
 * not pay for work left from before it: a stack just started (Keycloak's JVM compiling and
 * collecting for a minute or more), a seeding's creates, a listing.
 */
export async function stackQuiet(names?: readonly string[], maxMs = 60_000): Promise<boolean> {
  const all = stackPids();
  const pids = names ? Object.fromEntries(Object.entries(all).filter(([name]) => names.includes(name))) : all;
  if (Object.keys(pids).length === 0) return true;
  const deadline = performance.now() + maxMs;
  let quietSeconds = 0;
  let before = cpuSnapshot(pids);
  while (quietSeconds < 2 && performance.now() < deadline) {
    await sleep(1000);
    const used = Object.values(cpuSince(before, pids)).reduce((sum, seconds) => sum + seconds, 0);
    before = cpuSnapshot(pids);
    quietSeconds = used < 0.1 ? quietSeconds + 1 : 0;
  }
  return quietSeconds >= 2;
}

/** CPU time the stack's Redis has used so far, in seconds (`INFO cpu`). */
export async function redisCpuSeconds(): Promise<number> {
  const redis = new Redis(env('REDIS_URL'), { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    const info = await redis.info('cpu');
    const field = (name: string) => Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(info)?.[1] ?? 0);
    return field('used_cpu_user') + field('used_cpu_sys');
  } finally {
    redis.disconnect();
  }
}

/** Samples a process's RSS every `everyMs` until stopped; returns the peak and the last value. */
export function sampleRss(pid: number, everyMs = 200): { stop(): { peakMb: number; lastMb: number }; phase(): number } {
  let peakMb = 0;
  let phasePeakMb = 0;
  let lastMb = 0;
  const timer = setInterval(() => {
    try {
      lastMb = rssMb(pid);
      peakMb = Math.max(peakMb, lastMb);
      phasePeakMb = Math.max(phasePeakMb, lastMb);
    } catch {
      // the process is gone
    }
  }, everyMs);
  return {
    /** The peak since the last call (or the start), from the same samples as the whole peak. */
    phase() {
      const peak = phasePeakMb;
      phasePeakMb = 0;
      return peak;
    },
    stop() {
      clearInterval(timer);
      return { peakMb, lastMb };
    },
  };
}

export async function dropPrefix(prefix: string): Promise<void> {
  await dropRedisPrefix(env('REDIS_URL'), prefix);
}

export { eventually } from '../test/helpers/poll.js';

/** Runs `work` over `items` with at most `concurrency` at a time. */
export async function pool<T>(items: readonly T[], concurrency: number, work: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      while (next < items.length) {
        const index = next++;
        await work(items[index] as T, index);
      }
    }),
  );
}

export const round = (value: number, digits = 1): number => Math.round(value * 10 ** digits) / 10 ** digits;

/** The middle value (the mean of the two middle ones for an even count), rounded to a tenth. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[middle] as number) : round(((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2);
}
