import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from './cli.js';
import type { IdentityProvider } from '@kup/core';
import { adoptCommand, adoptable } from './commands/adopt.js';
import { bar, progress } from './progress.js';
import type { CliIo } from './io.js';

function io(env: NodeJS.ProcessEnv = {}, interactive = false) {
  const out: string[] = [];
  const err: string[] = [];
  const value: CliIo = { out: (t) => void out.push(t), err: (t) => void err.push(t), env, interactive, confirm: async () => true };
  return { io: value, out, err };
}

/** A stand-in API: records requests, answers 202 for enqueues and walks a job through its states. */
let server: Server;
let url = '';
const requests: { method: string; path: string; body: string; auth: string | undefined; prefer: string | undefined }[] = [];
let polls = 0;
let counted = 0;
beforeAll(async () => {
  server = createServer(async (req: IncomingMessage, res) => {
    let body = '';
    for await (const chunk of req) body += chunk;
    requests.push({ method: req.method ?? '', path: req.url ?? '', body, auth: req.headers.authorization, prefer: req.headers.prefer?.toString() });
    res.setHeader('content-type', 'application/json');
    if (req.url === '/reset' || req.url === '/cleanup' || req.url === '/sync') {
      if (body.includes('"maxAgeDays":-1')) return res.writeHead(400).end(JSON.stringify({ message: 'Invalid request', details: [{ path: 'maxAgeDays', message: 'too small' }] }));
      return res.writeHead(202).end(JSON.stringify({ jobId: req.url.slice(1), statusUrl: `/jobs${req.url}`, alreadyPending: false }));
    }
    if (req.url === '/jobs/reset') {
      polls += 1;
      const done = polls >= 3;
      return res.writeHead(200).end(
        JSON.stringify({
          id: 'reset',
          type: 'reset',
          state: done ? 'completed' : 'waiting-children',
          progress: { step: 'users', done: Math.min(polls, 2), total: 2 },
          attemptsMade: 0,
          ...(done ? { result: { message: 'ok', users_processed: 2, namespaces_reset: 2, failed_resets: [] } } : {}),
        }),
      );
    }
    if (req.url === '/provisioner') {
      return res.writeHead(202).end(JSON.stringify({ jobId: 'slow', statusUrl: '/jobs/slow', username: 'ana' }));
    }
    if (req.url === '/jobs/slow') {
      return res.writeHead(200).end(JSON.stringify({ id: 'slow', type: 'create', state: 'active', progress: { step: 'keycloak', done: 1, total: 4 }, attemptsMade: 0 }));
    }
    if (req.url === '/jobs/counted') {
      counted += 1;
      const done = counted >= 3;
      return res.writeHead(200).end(JSON.stringify({
        id: 'counted', type: 'sync', state: done ? 'completed' : 'active', progress: { step: 'users', done: Math.min(counted, 3), total: 3 }, attemptsMade: 0, ...(done ? { result: { ok: true } } : {}),
      }));
    }
    if (req.url === '/jobs/delete-nobody') {
      return res.writeHead(200).end(JSON.stringify({ id: 'delete-nobody', type: 'delete', state: 'completed', progress: { step: 'inspect', done: 1, total: 4 }, attemptsMade: 1, result: { username: 'nobody', userId: null, found: false, removed: { namespace: false, keycloak: false, grafana: false } } }));
    }
    if (req.url === '/jobs/bad') {
      return res.writeHead(200).end(JSON.stringify({ id: 'bad', type: 'sync', state: 'failed', progress: { step: 'failed', done: 0, total: 0 }, attemptsMade: 1, error: { code: 'USER_NOT_FOUND', message: 'no provisioned user "x"' } }));
    }
    res.writeHead(404).end(JSON.stringify({ message: 'Job not found' }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe('provisioner CLI', () => {
  it('usage mistakes exit 2 and say why', async () => {
    for (const argv of [[], ['frobnicate'], ['create', 'only-email'], ['reset', '--bogus'], ['reset', '--max-age-days', '3'], ['cleanup', '--max-age-days', 'x', '--url', 'http://x', '--token', 't']]) {
      const t = io();
      expect(await run(argv, t.io), argv.join(' ')).toBe(2);
      expect(t.err.join('\n') + t.out.join('\n')).toMatch(/Usage: provisioner/);
    }
  });

  it('needs a URL and a token, from env or flags', async () => {
    const t = io();
    expect(await run(['schedules'], t.io)).toBe(2);
    expect(t.err[0]).toMatch(/PROVISIONER_URL/);
  });

  it('reset --wait: enqueues with the token, shows progress, exits 0 with the statistics', async () => {
    const t = io({ PROVISIONER_URL: url, PROVISIONER_TOKEN: 'secret-token-123456' });
    const code = await run(['reset', '--username', 'ana', '--mode', 'purge', '--wait', '--json', '--timeout', '30'], t.io);
    expect(code).toBe(0);
    const post = requests.find((r) => r.path === '/reset');
    expect(JSON.parse(post?.body ?? '')).toEqual({ username: 'ana', mode: 'purge' });
    expect(post?.auth).toBe('Bearer secret-token-123456');
    // Asks for the 202 even when the API makes old callers wait (DEFAULT_PREFER_WAIT_SECONDS).
    expect(post?.prefer).toBe('respond-async');
    expect(t.err.some((l) => l.includes('users 1/2'))).toBe(true);
    expect(JSON.parse(t.out.join('\n')).result.namespaces_reset).toBe(2);
  }, 20_000);

  it('a delete that found nobody says so plainly (a mistyped email looks the same)', async () => {
    const t = io({ PROVISIONER_URL: url, PROVISIONER_TOKEN: 't' });
    expect(await run(['status', 'delete-nobody'], t.io)).toBe(0);
    expect(t.out.join('\n')).toContain('no trainee under nobody: nothing was deleted (check the email and name)');
  });

  it('a failed job exits 1 with its code; cleanup flags become the body', async () => {
    const failed = io({ PROVISIONER_URL: url, PROVISIONER_TOKEN: 't' });
    expect(await run(['status', 'bad'], failed.io)).toBe(1);
    expect(failed.err.join('\n')).toMatch(/USER_NOT_FOUND/);

    const bad = io();
    expect(await run(['cleanup', '--url', url, '--token', 't', '--max-age-days', '0', '--dry-run'], bad.io)).toBe(0);
    expect(JSON.parse(requests.at(-1)?.body ?? '')).toEqual({ maxAgeDays: 0, dryRun: true });
    expect(await run(['cleanup', '--url', url, '--token', 't', '--max-age-days', '0', '--confirm-mass-delete'], bad.io)).toBe(0);
    expect(JSON.parse(requests.at(-1)?.body ?? '')).toEqual({ maxAgeDays: 0, confirmMassDelete: true });
  });

  it('warns when the token is on the command line, or would cross the network in plain HTTP; not for the environment and a local server', async () => {
    const flag = io();
    expect(await run(['sync', '--url', url, '--token', 't'], flag.io)).toBe(0);
    expect(flag.err.join('\n')).toMatch(/--token shows the API token .*set PROVISIONER_TOKEN instead/);
    const quiet = io({ PROVISIONER_URL: url, PROVISIONER_TOKEN: 't' });
    expect(await run(['sync'], quiet.io)).toBe(0);
    expect(quiet.err).toEqual([]);
    // A remote host over http: warned before anything is sent (it cannot be reached here).
    const remote = io({ PROVISIONER_URL: 'http://provisioner.example.invalid:1', PROVISIONER_TOKEN: 't' });
    await run(['sync'], remote.io);
    expect(remote.err[0]).toMatch(/http:\/\/provisioner\.example\.invalid:1 is plain HTTP/);
  });

  it('sync --dry-run asks for a dry run; without it the body has no dryRun', async () => {
    const out = io();
    expect(await run(['sync', '--url', url, '--token', 't', '--username-prefix', 'p-', '--dry-run'], out.io)).toBe(0);
    expect(JSON.parse(requests.at(-1)?.body ?? '')).toEqual({ usernamePrefix: 'p-', dryRun: true });
    expect(await run(['sync', '--url', url, '--token', 't'], out.io)).toBe(0);
    expect(JSON.parse(requests.at(-1)?.body ?? '{}')).toEqual({});
  });

  it('adopt --yes without a filter refuses to take the whole realm unless --all says so', async () => {
    const t = io({}, false);
    expect(await run(['adopt', '--yes'], t.io)).toBe(2);
    expect(t.err[0]).toMatch(/--email-domain or --username-prefix, or pass --all/);
    const both = io({}, false);
    expect(await run(['adopt', '--yes', '--all', '--username-prefix', 'x'], both.io)).toBe(2);
    expect(both.err[0]).toMatch(/--all cannot be combined/);

    // With --all it does take everyone who is not yet provisioned.
    const users = ['ann', 'bob'].map((username, i) => ({ id: String(i), username, email: undefined, enabled: true, managed: false, provisioned: false, expiresAt: undefined, createdAt: 0 }));
    const adopted: string[] = [];
    const identity = { listUsers: async () => ({ users, next: undefined }), adopt: async (id: string) => void adopted.push(id) } as unknown as IdentityProvider;
    const all = io({}, false);
    expect(await adoptCommand(all.io, { emailDomain: undefined, usernamePrefix: undefined, dryRun: false, yes: true, all: true, json: false }, identity)).toBe(0);
    expect(adopted).toEqual(['0', '1']);
  });

  it('--version prints the package version; help per command', async () => {
    const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
    for (const flag of ['--version', '-V']) {
      const t = io();
      expect(await run([flag], t.io)).toBe(0);
      expect(t.out).toEqual([`provisioner ${version}`]);
    }
    for (const [argv, wants] of [[['reset', '--help'], '--mode recreate|purge'], [['help', 'cleanup'], '--dry-run'], [['status', '-h'], 'status <jobId>']] as const) {
      const t = io();
      expect(await run([...argv], t.io), argv.join(' ')).toBe(0);
      expect(t.out.join('\n')).toContain(`Usage: provisioner ${argv[0] === 'help' ? argv[1] : argv[0]}`);
      expect(t.out.join('\n')).toContain(wants);
      expect(t.out.join('\n')).toMatch(/3 --wait timed out/);
    }
    // Every command has its own help, and the general usage lists them all.
    const general = io();
    expect(await run(['--help'], general.io)).toBe(0);
    for (const command of ['create', 'delete', 'reset', 'cleanup', 'sync', 'status', 'schedules', 'process', 'adopt']) {
      expect(general.out.join('\n')).toContain(`  ${command} `);
      const t = io();
      expect(await run(['help', command], t.io), command).toBe(0);
    }
    const unknown = io();
    expect(await run(['help', 'frobnicate'], unknown.io)).toBe(2);
    // A usage mistake shows that command's help, not the whole usage.
    const mistake = io();
    expect(await run(['reset', '--mode', 'sideways', '--url', url, '--token', 't'], mistake.io)).toBe(2);
    expect(mistake.err.join('\n')).toMatch(/--mode is recreate or purge\n\nUsage: provisioner reset/);
  });

  it('--wait that times out exits 3 (not 1), saying the job goes on', async () => {
    const env = { PROVISIONER_URL: url, PROVISIONER_TOKEN: 't' };
    const status = io(env);
    expect(await run(['status', 'slow', '--wait', '--timeout', '1'], status.io)).toBe(3);
    expect(status.err.join('\n')).toMatch(/still active after the timeout: the job goes on \(provisioner status slow --wait\)/);
    const create = io(env);
    expect(await run(['create', 'ana@example.org', 'Ana', '--wait', '--timeout', '1'], create.io)).toBe(3);
    // Without --wait, a pending job is no timeout.
    expect(await run(['status', 'slow'], io(env).io)).toBe(0);
  }, 20_000);

  it('create sends --expires-at and --profile in the body, and nothing of them when not given', async () => {
    const env = { PROVISIONER_URL: url, PROVISIONER_TOKEN: 't' };
    expect(await run(['create', 'ana@example.org', 'Ana', '--expires-at', '2027-03-06T18:00:00Z', '--profile', 'small'], io(env).io)).toBe(0);
    expect(JSON.parse(requests.at(-1)?.body ?? '{}')).toEqual({ email: 'ana@example.org', full_name: 'Ana', expiresAt: '2027-03-06T18:00:00Z', profile: 'small' });
    expect(await run(['create', 'ana@example.org', 'Ana'], io(env).io)).toBe(0);
    expect(JSON.parse(requests.at(-1)?.body ?? '{}')).toEqual({ email: 'ana@example.org', full_name: 'Ana' });
    expect(await run(['delete', 'ana@example.org', 'Ana', '--profile', 'small'], io(env).io)).toBe(2);
  });

  it('types its requests from the OpenAPI document: path parameters are encoded', async () => {
    const t = io({ PROVISIONER_URL: url, PROVISIONER_TOKEN: 't' });
    expect(await run(['status', 'a/b c'], t.io)).toBe(1);
    expect(requests.at(-1)?.path).toBe('/jobs/a%2Fb%20c');
  });

  it('draws a progress bar in place on a terminal, coloured unless NO_COLOR; plain lines elsewhere', async () => {
    const onTerminal = (env: NodeJS.ProcessEnv) => {
      const t = io({ PROVISIONER_URL: url, PROVISIONER_TOKEN: 't', ...env });
      const drawn: string[] = [];
      t.io.terminal = { write: (text) => void drawn.push(text), columns: 80 };
      return { ...t, drawn };
    };
    counted = 0;
    const colour = onTerminal({});
    expect(await run(['status', 'counted', '--wait', '--timeout', '30'], colour.io)).toBe(0);
    const screen = colour.drawn.join('');
    expect(screen).toMatch(/^\r\u001b\[2K/);
    expect(screen).toContain('#'.repeat(24));
    expect(screen).toMatch(/\u001b\[36m\[#+-*\]\u001b\[39m 1\/3/);
    expect(screen.endsWith('\n')).toBe(true);
    expect(colour.err).toEqual([]);
    expect(colour.out.join('\n')).toContain('\u001b[32mcompleted\u001b[39m');

    counted = 0;
    const plain = onTerminal({ NO_COLOR: '1' });
    expect(await run(['status', 'counted', '--wait', '--timeout', '30'], plain.io)).toBe(0);
    expect(plain.drawn.join('')).toContain('[########--------');
    expect(plain.drawn.join('') + plain.out.join('')).not.toMatch(/\u001b\[\d+m/);

    counted = 0;
    const piped = io({ PROVISIONER_URL: url, PROVISIONER_TOKEN: 't' });
    expect(await run(['status', 'counted', '--wait', '--timeout', '30'], piped.io)).toBe(0);
    expect(piped.err).toEqual(['sync counted: active, users 1/3', 'sync counted: active, users 2/3', 'sync counted: completed, users 3/3']);
    expect(piped.err.join('') + piped.out.join('')).not.toMatch(/[\r\u001b]/);
  }, 30_000);

  it('keeps the bar within a narrow terminal, cutting the text and never the bar', () => {
    const drawn: string[] = [];
    const t = io({});
    t.io.terminal = { write: (text) => void drawn.push(text), columns: 50 };
    const shown = progress(t.io);
    shown.update({ id: `reset-${'x'.repeat(60)}`, type: 'reset', state: 'waiting-children', progress: { step: 'users', done: 5, total: 10 }, attemptsMade: 0, queue: 'fleet', createdAt: '', finishedAt: null });
    shown.end();
    const line = (drawn[0] ?? '').replace(/\r\u001b\[2K/, '').replace(/\u001b\[\d+m/g, '');
    expect(line.length).toBeLessThanOrEqual(49);
    expect(line.endsWith(`${bar(5, 10)} 5/10`)).toBe(true);
    expect(bar(5, 10)).toBe(`[${'#'.repeat(12)}${'-'.repeat(12)}]`);
    expect(drawn.at(-1)).toBe('\n');
  });

  it('adopt refuses to change users without a terminal or --yes', async () => {
    const t = io({}, false);
    expect(await run(['adopt'], t.io)).toBe(2);
    expect(t.err[0]).toMatch(/--yes/);
  });

  it('adopt filters by email domain and username prefix, and skips managed users', () => {
    const user = { id: '1', username: 'jean', email: 'jean@school.io', enabled: true, managed: false, provisioned: false, expiresAt: undefined, createdAt: 0 };
    expect(adoptable(user, { emailDomain: 'school.io', usernamePrefix: undefined })).toBe(true);
    expect(adoptable(user, { emailDomain: 'other.io', usernamePrefix: undefined })).toBe(false);
    expect(adoptable(user, { emailDomain: undefined, usernamePrefix: 'je' })).toBe(true);
    expect(adoptable({ ...user, managed: true, provisioned: true }, { emailDomain: undefined, usernamePrefix: undefined })).toBe(false);
  });
});
