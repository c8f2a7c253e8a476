// Bull Board in a real headless Chromium (Debian's `chromium`, driven by playwright-core):
// with HTTP basic credentials (password = an API token) it shows every queue and a
// finished job, and no password; without credentials the browser gets no page.
import { mkdirSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QUEUES } from '@kup/core';
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
    for (const queue of [...Object.values(QUEUES), 'fleet-schedules']) {
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

  it('without credentials the browser gets no page', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await expect(page.goto(`${s.url}/admin/queues`)).rejects.toThrow(/ERR_INVALID_AUTH_CREDENTIALS/);
    await context.close();
  });
});
