// Bull Board in a real headless Chromium (Debian's `chromium`, driven by playwright-core):
// with HTTP basic credentials (password = an API token) it shows every queue and a
// finished job, and no password; without credentials the browser gets no page. Then, over
// HTTP against the running service, as a caller holding only an API token would attack
// it: every write is refused (403) and changes nothing; the Bull Board admin token may
// write, and a raw job it adds with a tampered state is failed by the worker, doing nothing.
// Last, the API refuses to let one call delete every trainee: cleanup needs confirmMassDelete.
import { mkdirSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QUEUES, WEBHOOKS_QUEUE } from '@kup/core';
import { emailOf, uniqueUsername } from '../helpers/names.js';
import { eventually, findKeycloakUser } from '../helpers/stack.js';
import { startService, type Service } from './service-harness.js';

const CHROMIUM = '/usr/bin/chromium';
const ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

describe('Bull Board in Chromium', () => {
  let s: Service;
  let browser: Browser;

  beforeAll(async () => {
    s = await startService();
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
  });
  afterAll(async () => {
    await browser?.close();
    await s?.close();
  });

  it('with credentials: every queue and a finished fleet run are shown, no secret is', async () => {
    // A finished job to look at: a sync scoped to nobody (quick, touches no one).
    const sync = await fetch(`${s.url}/sync`, {
      method: 'POST',
      headers: { authorization: `Bearer ${s.token}`, 'content-type': 'application/json', prefer: 'wait=60' },
      body: JSON.stringify({ usernamePrefix: 'nobody-in-bull-board-' }),
    });
    expect(sync.status).toBe(200);

    const context = await browser.newContext({ httpCredentials: { username: 'operator', password: s.token } });
    const page = await context.newPage();
    const response = await page.goto(`${s.url}/admin/queues`);
    expect(response?.status()).toBe(200);
    expect(response?.headers()['content-security-policy']).toBe("frame-ancestors 'none'");
    expect(response?.headers()['x-frame-options']).toBe('DENY');
    for (const queue of [...Object.values(QUEUES), 'fleet-schedules', WEBHOOKS_QUEUE]) {
      await page.getByText(queue, { exact: true }).first().waitFor({ timeout: 30_000 });
    }
    await page.goto(`${s.url}/admin/queues/queue/${QUEUES.fleet}?status=completed`);
    // The finished run, with its result (the old statistics) on the card.
    await page.getByText('Sync finished', { exact: false }).first().waitFor({ timeout: 30_000 });
    const html = await page.content();
    expect(html).not.toContain(s.token);
    mkdirSync('test-artifacts', { recursive: true });
    await page.screenshot({ path: 'test-artifacts/bull-board.png', fullPage: true });
    await context.close();
  });

  it('shows no write buttons to an API token, and shows them to the admin token', async () => {
    const buttonsOf = async (password: string) => {
      const context = await browser.newContext({ httpCredentials: { username: 'operator', password } });
      const page = await context.newPage();
      await page.goto(`${s.url}/admin/queues/queue/${QUEUES.fleet}?status=completed`);
      await page.getByText('Sync finished', { exact: false }).first().waitFor({ timeout: 30_000 });
      const texts = (await page.getByRole('button').allInnerTexts()).map((t) => t.trim()).filter(Boolean);
      await context.close();
      return texts;
    };
    const writes = /^(Clean|Clean all|Retry|Retry all|Promote|Promote all|Add job|Pause|Empty|Obliterate|Update Data|Duplicate)$/;
    const forAdmin = await buttonsOf(s.adminToken);
    expect(forAdmin.filter((t) => writes.test(t)), forAdmin.join(' | ')).not.toEqual([]);
    const forApi = await buttonsOf(s.token);
    expect(forApi.filter((t) => writes.test(t)), forApi.join(' | ')).toEqual([]);
  });

  it('without credentials the browser gets no page', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await expect(page.goto(`${s.url}/admin/queues`)).rejects.toThrow(/ERR_INVALID_AUTH_CREDENTIALS/);
    await context.close();
  });

  describe('over HTTP, as a caller holding an API token', () => {
    const call = (method: string, path: string, token: string, body?: unknown) =>
      fetch(`${s.url}/admin/queues/api${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });

    it('cannot add a job, edit job data or obliterate a queue: 403 and nothing changes', async () => {
      const queue = s.apiDeps.queues[QUEUES.provisioning];
      const victim = await queue.add('delete', { usernames: [uniqueUsername('t-bbv')] }, { delay: 600_000, jobId: `delete-${uniqueUsername('t-bbv')}` });
      const before = await queue.getJobCounts();

      const add = await call('POST', `/queues/${QUEUES.provisioning}/add`, s.token, { name: 'create', data: { username: uniqueUsername('t-bba') }, options: {} });
      expect(add.status).toBe(403);
      expect(await add.json()).toMatchObject({ code: 'BULL_BOARD_READ_ONLY' });
      const edit = await call('PATCH', `/queues/${QUEUES.provisioning}/${victim.id}/update-data`, s.token, { jobData: { usernames: ['admin'] } });
      expect(edit.status).toBe(403);
      expect((await call('PUT', `/queues/${QUEUES.provisioning}/pause`, s.token)).status).toBe(403);
      expect((await call('PUT', `/queues/${QUEUES.provisioning}/obliterate`, s.token, { force: true })).status).toBe(403);
      expect((await call('PATCH', '/queues/fleet-schedules/job-schedulers/cleanup', s.token, { pattern: '* * * * *' })).status).toBe(403);

      expect(await queue.getJobCounts()).toEqual(before);
      expect((await queue.getJob(victim.id as string))?.data).toEqual(victim.data);
      expect(await queue.isPaused()).toBe(false);
      await victim.remove();
    });

    it('the admin token may add a job; one whose stored state was tampered with is failed by the worker, doing nothing', async () => {
      const username = uniqueUsername('t-bbadm');
      const add = await call('POST', `/queues/${QUEUES.provisioning}/add`, s.adminToken, {
        name: 'create',
        data: { username, email: emailOf(username), state: { initial: 'provisioned', owned: { keycloak: 'yes' } } },
        options: {},
      });
      expect(add.status).toBe(200);
      const { job } = (await add.json()) as { job: { id: string } };
      const reason = await eventually(
        'the tampered job failed',
        async () => (await s.apiDeps.queues[QUEUES.provisioning].getJob(job.id))?.failedReason || undefined,
        60_000,
      );
      expect(reason).toMatch(/^INVALID_JOB_STATE: state\.owned\.keycloak/);
      expect(await findKeycloakUser(username)).toBeUndefined();
    });
  });

  it('POST /cleanup {"maxAgeDays": 0} is refused with 409 CONFIRMATION_REQUIRED and deletes nobody; confirmed, it runs', async () => {
    const prefix = uniqueUsername('t-bbcln');
    const username = `${prefix}-a`;
    const post = (path: string, body: unknown, wait = true) =>
      fetch(`${s.url}${path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${s.token}`, 'content-type': 'application/json', ...(wait ? { prefer: 'wait=60' } : {}) },
        body: JSON.stringify(body),
      });
    const created = await post('/provisioner', { email: emailOf(username) });
    expect(created.status).toBe(200);
    try {
      const refused = await post('/cleanup', { maxAgeDays: 0, usernamePrefix: prefix });
      expect(refused.status).toBe(409);
      expect(await refused.json()).toMatchObject({ code: 'CONFIRMATION_REQUIRED', message: expect.stringContaining('confirmMassDelete') });
      expect(await findKeycloakUser(username)).toBeDefined();

      const confirmed = await post('/cleanup', { maxAgeDays: 0, usernamePrefix: prefix, confirmMassDelete: true });
      expect(confirmed.status).toBe(200);
      expect(await confirmed.json()).toMatchObject({ successfully_deleted: 1 });
      expect(await findKeycloakUser(username)).toBeUndefined();
    } finally {
      await fetch(`${s.url}/provisioner`, {
        method: 'DELETE',
        headers: { authorization: `Bearer ${s.token}`, 'content-type': 'application/json', prefer: 'wait=60' },
        body: JSON.stringify({ email: emailOf(username) }),
      });
    }
  });
});
