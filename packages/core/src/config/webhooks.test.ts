import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadWorkerConfig } from './env.js';
import { configError, workerBase as base } from '../test-support/env-fixture.js';
import { webhookSubscriptions } from './webhooks.js';

const secret = () => `whsec_${randomBytes(32).toString('base64')}`;
const TOKEN_URL = 'https://hooks.example/services/T0K3N-in-the-path';

function issuesOf(env: Record<string, string>): string[] {
  return configError(() => loadWorkerConfig({ ...base, ...env })).issues;
}

describe('webhook settings', () => {
  it('has no subscriptions and a 72 h expiring window by default', () => {
    const config = loadWorkerConfig(base);
    expect(webhookSubscriptions(config)).toEqual([]);
    expect(config.WEBHOOK_EXPIRING_AHEAD).toBe(72 * 3600);
    expect(config.WEBHOOK_ATTEMPTS).toBe(10);
  });

  it('reads WEBHOOKS_FILE (YAML) and WEBHOOKS (JSON), file first, with stable default ids', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kup-webhooks-'));
    const file = join(dir, 'webhooks.yaml');
    const s1 = secret();
    writeFileSync(file, `- id: lms\n  url: https://lms.example/hooks\n  secret: ${s1}\n  events: [trainee.created, trainee.deleted, trainee.created]\n`);
    const s2 = secret();
    const config = loadWorkerConfig({ ...base, WEBHOOKS_FILE: file, WEBHOOKS: JSON.stringify([{ url: TOKEN_URL, secret: s2, events: ['job.failed'] }]), WEBHOOK_EXPIRING_AHEAD: '3d' });
    const subs = webhookSubscriptions(config);
    expect(subs).toEqual([
      { id: 'lms', url: 'https://lms.example/hooks', secret: s1, events: ['trainee.created', 'trainee.deleted'] },
      { id: expect.stringMatching(/^sub-[0-9a-f]{10}$/), url: TOKEN_URL, secret: s2, events: ['job.failed'] },
    ]);
    expect(webhookSubscriptions(config)[1]?.id).toBe(subs[1]?.id);
    expect(config.WEBHOOK_EXPIRING_AHEAD).toBe(3 * 86_400);
  });

  it('refuses http:// unless ALLOW_INSECURE_UPSTREAMS, naming the entry but not its URL', () => {
    const list = JSON.stringify([{ url: 'http://hooks.example/T0K3N', secret: secret(), events: ['trainee.created'] }]);
    const issues = issuesOf({ WEBHOOKS: list });
    expect(issues).toEqual([expect.stringMatching(/^WEBHOOKS\.0\.url: http:\/\/ sends/)]);
    expect(issues.join('\n')).not.toContain('T0K3N');
    expect(webhookSubscriptions(loadWorkerConfig({ ...base, WEBHOOKS: list, ALLOW_INSECURE_UPSTREAMS: 'true' }))).toHaveLength(1);
  });

  it('lists every bad entry at once, never echoing a secret', () => {
    const shortSecret = `whsec_${randomBytes(8).toString('base64')}`;
    const issues = issuesOf({
      WEBHOOKS: JSON.stringify([
        { url: TOKEN_URL, secret: shortSecret, events: ['trainee.created'] },
        { url: 'ftp://x.example', secret: secret(), events: ['trainee.created'] },
        { url: TOKEN_URL, secret: 'plain-secret-value', events: ['nope'] },
        { url: TOKEN_URL, secret: secret(), events: [], extra: 1 },
      ]),
    });
    const text = issues.join('\n');
    expect(text).toContain('WEBHOOKS.0.secret');
    expect(text).toContain('WEBHOOKS.1.url');
    expect(text).toContain('WEBHOOKS.2.secret');
    expect(text).toContain('WEBHOOKS.2.events.0');
    expect(text).toContain('WEBHOOKS.3.events');
    expect(text).toContain('WEBHOOKS.3');
    for (const value of [shortSecret, 'plain-secret-value', 'T0K3N']) expect(text).not.toContain(value);
  });

  it('refuses two subscriptions with one id, an unreadable file, bad JSON and a bad duration', () => {
    const twice = JSON.stringify([
      { url: TOKEN_URL, secret: secret(), events: ['trainee.created'] },
      { url: TOKEN_URL, secret: secret(), events: ['trainee.deleted'] },
    ]);
    expect(issuesOf({ WEBHOOKS: twice })).toEqual([expect.stringMatching(/^WEBHOOKS\.1\.id: "sub-[0-9a-f]+" is used twice/)]);
    expect(issuesOf({ WEBHOOKS_FILE: '/nonexistent/webhooks.yaml' })).toEqual(['WEBHOOKS_FILE: cannot read the file (ENOENT)']);
    expect(issuesOf({ WEBHOOKS: '[{' })).toEqual(['WEBHOOKS: must be a JSON list of {id?, url, secret, events}']);
    expect(issuesOf({ WEBHOOK_EXPIRING_AHEAD: 'soon' })[0]).toMatch(/^WEBHOOK_EXPIRING_AHEAD: a duration/);
    expect(issuesOf({ WEBHOOK_EXPIRING_AHEAD: '10s' })[0]).toMatch(/^WEBHOOK_EXPIRING_AHEAD: at least a minute/);
  });

  it('names the line of a file that is not YAML', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kup-webhooks-'));
    const file = join(dir, 'webhooks.yaml');
    writeFileSync(file, '- id: a\n  url: [unclosed\n');
    expect(issuesOf({ WEBHOOKS_FILE: file })[0]).toMatch(/^WEBHOOKS_FILE: not valid YAML or JSON \(line \d+\)$/);
  });
});
