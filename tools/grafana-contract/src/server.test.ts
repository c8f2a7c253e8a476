// Behaviour of the contract server itself that the shared contract suite cannot see
// (persistence, races, defaults, the process entry point).
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { createGrafanaContractServer, type GrafanaContractServer } from './server.js';

const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = resolve(here, '../../..');

const open: GrafanaContractServer[] = [];
const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function start(opts: { adminPassword?: string; dataFile?: string } = {}) {
  const server = createGrafanaContractServer({
    adminUser: 'admin',
    adminPassword: opts.adminPassword ?? 'admin-pw',
    ...(opts.dataFile ? { dataFile: opts.dataFile } : {}),
  });
  open.push(server);
  const url = await server.listen(0, '127.0.0.1');
  const call = async (method: string, path: string, body?: unknown, auth = `admin:${opts.adminPassword ?? 'admin-pw'}`) => {
    const res = await fetch(new URL(path, url), {
      method,
      headers: { authorization: `Basic ${Buffer.from(auth).toString('base64')}`, 'content-type': 'application/json' },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  return { server, url, call };
}

function tempFile(): string {
  const dir = mkdtempSync(join(tmpdir(), 'grafana-contract-'));
  dirs.push(dir);
  return join(dir, 'nested', 'users.json');
}

describe('grafana contract server', () => {
  it('keeps users across a restart when given a data file, and never stores plain passwords', async () => {
    const dataFile = tempFile();
    const first = await start({ dataFile });
    const created = await first.call('POST', '/api/admin/users', { login: 'kept', email: 'kept@x.test', password: 'kept-pw-1' });
    expect(created.status).toBe(200);
    await first.server.close();
    expect(readFileSync(dataFile, 'utf8')).not.toContain('kept-pw-1');

    const second = await start({ dataFile, adminPassword: 'rotated-pw' });
    const found = await second.call('GET', '/api/users/lookup?loginOrEmail=kept', undefined, 'admin:rotated-pw');
    expect(found.body).toMatchObject({ id: created.body.id, login: 'kept' });
    expect((await second.call('GET', '/api/user', undefined, 'kept:kept-pw-1')).status).toBe(200);
    // the configured admin password wins at start; the old one is gone
    expect((await second.call('GET', '/api/user', undefined, 'admin:admin-pw')).status).toBe(401);
    const next = await second.call(
      'POST',
      '/api/admin/users',
      { login: 'next', email: 'next@x.test', password: 'next-pw' },
      'admin:rotated-pw',
    );
    expect(next.body.id).toBeGreaterThan(created.body.id as number);
  });

  it('lets exactly one of several concurrent identical creates win', async () => {
    const { call } = await start();
    const results = await Promise.all(
      Array.from({ length: 8 }, () => call('POST', '/api/admin/users', { login: 'race', email: 'race@x.test', password: 'pw-race' })),
    );
    expect(results.filter((r) => r.status === 200)).toHaveLength(1);
    expect(results.filter((r) => r.status === 412)).toHaveLength(7);
  });

  it('defaults login to email and email to login, and needs one of them and a password', async () => {
    const { call } = await start();
    const onlyEmail = await call('POST', '/api/admin/users', { email: 'only@x.test', password: 'pw-1234' });
    expect(onlyEmail.status).toBe(200);
    expect((await call('GET', '/api/users/lookup?loginOrEmail=only@x.test')).body).toMatchObject({
      login: 'only@x.test',
      email: 'only@x.test',
    });
    const onlyLogin = await call('POST', '/api/admin/users', { login: 'lonely', password: 'pw-1234' });
    expect(onlyLogin.status).toBe(200);
    expect((await call('GET', '/api/users/lookup?loginOrEmail=lonely')).body).toMatchObject({ email: 'lonely' });

    expect((await call('POST', '/api/admin/users', { name: 'x', password: 'pw-1234' })).status).toBe(400);
    expect((await call('POST', '/api/admin/users', { login: 'nopw' })).status).toBe(400);
    expect((await call('POST', '/api/admin/users', { login: 7, password: 'pw-1234' })).status).toBe(400);
    // Go's JSON binding matches field names case-insensitively
    expect((await call('POST', '/api/admin/users', { Login: 'cased', Password: 'pw-1234', orgId: 1 })).status).toBe(200);
  });

  it('keeps the last org admin and answers unknown routes with 404 JSON', async () => {
    const { call, url } = await start();
    const demote = await call('PATCH', '/api/orgs/1/users/1', { role: 'Viewer' });
    expect(demote.status).toBe(400);
    const res = await fetch(`${url}/api/dashboards/uid/x`);
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await res.json()).toEqual({ message: 'Not found' });
  });
});

describe('grafana contract main', () => {
  it('starts from env, logs one line without the password, and exits 0 on SIGTERM', async () => {
    const password = 'very-secret-admin-pw';
    const child = spawn(process.execPath, ['--import', 'tsx', 'tools/grafana-contract/src/main.ts'], {
      cwd: repoRoot,
      env: { ...process.env, GRAFANA_CONTRACT_PORT: '0', GRAFANA_ADMIN_PASSWORD: password },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    try {
      const url = await new Promise<string>((resolveUrl, reject) => {
        const timer = setTimeout(() => reject(new Error(`no start line: ${out}`)), 30_000);
        child.stdout.on('data', () => {
          const m = /listening on (http:\/\/\S+)/.exec(out);
          if (m?.[1]) {
            clearTimeout(timer);
            resolveUrl(m[1]);
          }
        });
      });
      const health = await fetch(`${url}/api/health`);
      expect(health.status).toBe(200);
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(out).not.toContain(password);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  });

  it('refuses to start without GRAFANA_ADMIN_PASSWORD', async () => {
    const env: NodeJS.ProcessEnv = { ...process.env, GRAFANA_CONTRACT_PORT: '0' };
    delete env.GRAFANA_ADMIN_PASSWORD;
    const child = spawn(process.execPath, ['--import', 'tsx', 'tools/grafana-contract/src/main.ts'], {
      cwd: repoRoot,
      env,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const code = await new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
    expect(code).toBe(2);
    expect(err).toContain('GRAFANA_ADMIN_PASSWORD is required');
  });
});
