// The built API started as the image starts it: production dependencies only (npm ci --omit=dev,
// as the Dockerfile's deps stage) and stdout a terminal (a pseudo-terminal from util-linux
// `script`, as `docker run -it` or `kubectl run -it` give). It must serve, logging JSON lines,
// and never reach for pino-pretty (a dev dependency the image does not have).
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uniquePrefix } from '../helpers/names.js';
import { eventually } from '../helpers/poll.js';
import { repoRoot } from '../helpers/service-account-kubeconfig.js';

const exec = promisify(execFile);
let app: string;
let child: ChildProcess | undefined;
let output = '';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    }).on('error', reject);
  });
}

/** A command run with stdout on a pseudo-terminal; its output (as the terminal saw it) on `pipe`. */
function underTty(command: string, cwd: string, env: NodeJS.ProcessEnv): ChildProcess {
  return spawn('script', ['-qfec', command, '/dev/null'], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
}

beforeAll(async () => {
  await exec('npx', ['tsc', '-b'], { cwd: repoRoot });
  // The image's layout: package.jsons + lockfile, production node_modules, compiled output.
  app = mkdtempSync(join(tmpdir(), 'kup-prod-'));
  cpSync(join(repoRoot, 'package.json'), join(app, 'package.json'));
  cpSync(join(repoRoot, 'package-lock.json'), join(app, 'package-lock.json'));
  for (const group of ['packages', 'apps', 'tools']) {
    for (const name of readdirSync(join(repoRoot, group))) {
      const dir = join(group, name);
      if (!existsSync(join(repoRoot, dir, 'package.json'))) continue;
      mkdirSync(join(app, dir), { recursive: true });
      cpSync(join(repoRoot, dir, 'package.json'), join(app, dir, 'package.json'));
    }
  }
  await exec('npm', ['ci', '--omit=dev', '--prefer-offline', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: app });
  for (const dir of ['packages/core', 'apps/api']) cpSync(join(repoRoot, dir, 'dist'), join(app, dir, 'dist'), { recursive: true });
}, 600_000);

afterAll(() => {
  if (child?.pid) {
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
  if (app) rmSync(app, { recursive: true, force: true });
});

describe('the built API on a terminal, production dependencies only', () => {
  it('the set-up is what it claims: no pino-pretty to load, and stdout a TTY', async () => {
    const fromCore = createRequire(join(app, 'packages/core/dist/index.js'));
    expect(() => fromCore.resolve('pino-pretty')).toThrow();
    expect(() => fromCore.resolve('pino')).not.toThrow();
    const probe = underTty(`node -p "'tty=' + process.stdout.isTTY"`, app, process.env);
    let seen = '';
    probe.stdout?.on('data', (chunk: Buffer) => (seen += chunk.toString()));
    await new Promise((resolve) => probe.once('exit', resolve));
    expect(seen).toContain('tty=true');
  });

  it('starts, serves /healthz and logs JSON lines', async () => {
    const port = await freePort();
    const env = { ...process.env, NODE_ENV: 'production', HOST: '127.0.0.1', PORT: String(port), QUEUE_PREFIX: uniquePrefix('tty') };
    child = underTty('node apps/api/dist/main.js', app, env);
    child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    let exited: number | null | undefined;
    child.once('exit', (code) => (exited = code));
    const outcome = await eventually('the API answers /healthz or exits', async () => {
      if (exited !== undefined) return `exited (${exited})`;
      const res = await fetch(`http://127.0.0.1:${port}/healthz`);
      return res.status === 200 ? 'serving' : undefined;
    }, 60_000);
    expect(outcome, output).toBe('serving');
    expect(output).not.toMatch(/pino-pretty|unable to determine transport target/);
    const lines = output.split(/\r?\n/).filter((l) => l.startsWith('{'));
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) expect(JSON.parse(line)).toMatchObject({ name: 'api', level: expect.any(Number) });
  });
});

