import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from './cli.js';
import type { IdentityProvider } from '@kup/core';
import { adoptCommand, adoptable } from './commands/adopt.js';
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
beforeAll(async () => {
  server = createServer(async (req: IncomingMessage, res) => {
    let body = '';
    for await (const chunk of req) body += chunk;
    requests.push({ method: req.method ?? '', path: req.url ?? '', body, auth: req.headers.authorization, prefer: req.headers.prefer?.toString() });
    res.setHeader('content-type', 'application/json');
    if (req.url === '/reset' || req.url === '/cleanup') {
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
