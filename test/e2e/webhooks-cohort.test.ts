// A cohort's members are announced as single trainees are: creating a cohort sends
// trainee.created for each member, deleting it trainee.deleted for each, signed, through
// the API and the worker app against the stack.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emailOf, uniqueUsername } from '../helpers/names.js';
import { eventually } from '../helpers/poll.js';
import { startWebhookReceiver, type Delivery, type WebhookReceiver } from '../helpers/webhook-receiver.js';
import { call, finished, uniqueCohort } from './cohort-helpers.js';
import { startService, type Service } from './service-harness.js';

describe('webhooks: a cohort\'s members', () => {
  const endpoint = { secret: `whsec_${randomBytes(32).toString('base64')}` };
  const cohort = uniqueCohort();
  const members = [uniqueUsername('t-hookc0'), uniqueUsername('t-hookc1')].sort();
  let receiver: WebhookReceiver;
  let svc: Service;
  let deleted = false;

  /** The members' delivered events of `type` (one per event id), once each member's has arrived. */
  const deliveredTo = (type: string) =>
    eventually(`${type} delivered for ${members.join(', ')}`, async () => {
      const ok = receiver.events(type).filter((d) => d.status === 204 && members.includes(d.event?.data.username as string));
      const once = [...new Map(ok.map((d) => [d.headers['webhook-id'], d])).values()];
      return new Set(once.map((d) => d.event?.data.username)).size === members.length ? once : undefined;
    }, 60_000);
  const usernames = (deliveries: Delivery[]) => deliveries.map((d) => d.event?.data.username).sort();

  beforeAll(async () => {
    receiver = await startWebhookReceiver({ '/hooks': endpoint });
    svc = await startService({
      workerEnv: {
        WEBHOOKS: JSON.stringify([{ id: 'lms', url: receiver.url('/hooks'), secret: endpoint.secret, events: ['trainee.created', 'trainee.deleted'] }]),
        WEBHOOK_BACKOFF_MS: '200',
        ALLOW_INSECURE_UPSTREAMS: 'true',
      },
    });
  });

  afterAll(async () => {
    if (svc && !deleted) {
      const removed = await call(svc, 'DELETE', `/cohorts/${cohort}`).catch(() => undefined);
      if (removed?.json?.jobId) await finished(svc, removed.json.jobId as string).catch(() => undefined);
    }
    await svc?.close();
    await receiver?.close();
  });

  it('sends trainee.created for each member a cohort create made', async () => {
    const made = await call(svc, 'POST', '/cohorts', { name: cohort, trainees: members.map((m) => ({ email: emailOf(m) })) });
    expect(made.status, made.text).toBe(202);
    expect((await finished(svc, made.json.jobId as string)).result).toMatchObject({ created: members });

    const created = await deliveredTo('trainee.created');
    expect(usernames(created)).toEqual(members);
    for (const delivery of created) {
      const username = delivery.event?.data.username as string;
      expect(delivery.event?.data).toMatchObject({ username, namespace: username, email: emailOf(username), jobId: expect.any(String) });
      expect(delivery.body).not.toMatch(/password/i);
    }
  });

  it('sends trainee.deleted for each member a cohort delete removed', async () => {
    const removed = await call(svc, 'DELETE', `/cohorts/${cohort}`);
    expect(removed.status, removed.text).toBe(202);
    expect((await finished(svc, removed.json.jobId as string)).result).toMatchObject({ deleted: members, failures: [] });
    deleted = true;

    const gone = await deliveredTo('trainee.deleted');
    expect(usernames(gone)).toEqual(members);
    for (const delivery of gone) expect(delivery.event?.data).toMatchObject({ username: delivery.event?.data.username, jobId: expect.any(String) });
    // Every delivery to the endpoint was signed with its secret.
    expect(receiver.deliveries.every((d) => d.verified)).toBe(true);
  });
});
