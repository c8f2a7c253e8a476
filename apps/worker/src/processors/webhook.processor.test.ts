import { randomBytes } from 'node:crypto';
import { UnrecoverableError } from 'bullmq';
import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { createLogger, metricsRegistry, type WebhookTransport } from '@kup/core';
import { fakeJob } from './test-job.js';
import { webhookProcessor } from './webhook.processor.js';

const secret = `whsec_${randomBytes(32).toString('base64')}`;
const URL_WITH_TOKEN = 'https://hooks.example/services/T0K3N';
const event = { id: 'msg_trainee_created_create-ana_1', type: 'trainee.created', timestamp: '2026-01-01T00:00:00.000Z', data: { username: 'ana', namespace: 'ana' } };

function setup(answer: (url: string) => Promise<number>) {
  const sent: Array<{ url: string; headers: Record<string, string>; body: string }> = [];
  const transport: WebhookTransport = {
    post: async (url, headers, body) => {
      sent.push({ url, headers, body });
      return answer(url);
    },
  };
  const processor = webhookProcessor({
    subscriptions: [{ id: 'lms', url: URL_WITH_TOKEN, secret, events: ['trainee.created'] }],
    transport,
    timeoutMs: 1_000,
    scan: {} as never,
    log: createLogger({ name: 'test', level: 'silent' }),
  });
  return { sent, run: (data: Record<string, unknown>, attemptsMade = 0) => processor(fakeJob('deliver', data, { attemptsMade, attempts: 3 }), undefined, undefined) };
}

const count = async (outcome: string) =>
  (await metricsRegistry.getSingleMetric('kup_webhook_deliveries_total')?.get())?.values.find((v) => v.labels.outcome === outcome && v.labels.event === 'trainee.created')?.value ?? 0;

describe('webhook delivery processor', () => {
  it('signs at send time: the specification\'s library accepts what it sends', async () => {
    const { sent, run } = setup(async () => 204);
    const delivered = await count('delivered');
    await expect(run({ subscription: 'lms', event })).resolves.toEqual({ status: 204, attempts: 1 });
    expect(sent[0]?.url).toBe(URL_WITH_TOKEN);
    expect(new Webhook(secret).verify(sent[0]?.body as string, sent[0]?.headers as Record<string, string>)).toEqual({ type: event.type, timestamp: event.timestamp, data: event.data });
    expect(sent[0]?.headers['webhook-id']).toBe(event.id);
    expect(await count('delivered')).toBe(delivered + 1);
  });

  it('a non-2xx answer (a redirect too) fails the try, retried until the last, naming the subscription, never its URL', async () => {
    const { run } = setup(async () => 302);
    const [retried, failed] = [await count('retried'), await count('failed')];
    const first = await run({ subscription: 'lms', event }).catch((error: Error) => error);
    expect(first).toBeInstanceOf(Error);
    expect(first).not.toBeInstanceOf(UnrecoverableError);
    expect((first as Error).message).toBe('DELIVERY_FAILED: subscription "lms": answered HTTP 302');
    await expect(run({ subscription: 'lms', event }, 2)).rejects.toThrow(/answered HTTP 302/);
    expect([await count('retried'), await count('failed')]).toEqual([retried + 1, failed + 1]);
  });

  it('a network error keeps only the transport\'s own words', async () => {
    const { run } = setup(async () => {
      throw new Error('network error (ECONNREFUSED)');
    });
    const error = (await run({ subscription: 'lms', event }).catch((e: Error) => e)) as Error;
    expect(error.message).toBe('DELIVERY_FAILED: subscription "lms": network error (ECONNREFUSED)');
    expect(error.message).not.toContain('T0K3N');
  });

  it('a job naming an unknown subscription, or carrying a URL of its own, sends nothing', async () => {
    const { sent, run } = setup(async () => 204);
    await expect(run({ subscription: 'other', event })).rejects.toBeInstanceOf(UnrecoverableError);
    // Job data edited by hand (Bull Board): the URL in it is not where anything goes.
    await run({ subscription: 'lms', event, url: 'http://169.254.169.254/latest' });
    expect(sent.map((s) => s.url)).toEqual([URL_WITH_TOKEN]);
    await expect(run({ subscription: 'lms', event: { ...event, type: 'not.an.event' } })).rejects.toThrow(/^INVALID_INPUT: /);
    // An event the subscription no longer wants (settings changed since it was queued).
    await expect(run({ subscription: 'lms', event: { ...event, type: 'job.failed' } })).resolves.toEqual({ skipped: 'not subscribed to job.failed any more' });
    expect(sent).toHaveLength(1);
  });
});
