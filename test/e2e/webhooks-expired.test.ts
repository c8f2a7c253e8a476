// trainee.expired against the stack: a trainee whose expiry passes is removed by its expire
// job, and subscribers hear of it once, signed, without the password.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Queue } from 'bullmq';
import { expireJobId, WEBHOOKS_QUEUE } from '@kup/core';
import { emailOf, uniqueUsername } from '../helpers/names.js';
import { eventually } from '../helpers/poll.js';
import { ensureTraineeClusterRole, findKeycloakUser } from '../helpers/stack.js';
import { startWebhookReceiver, type WebhookReceiver } from '../helpers/webhook-receiver.js';
import { testWorker, waitForJob, type TestWorker } from '../helpers/worker.js';

describe('webhooks: trainee.expired', () => {
  const endpoint = { secret: `whsec_${randomBytes(32).toString('base64')}` };
  let receiver: WebhookReceiver;
  let w: TestWorker;
  const ana = uniqueUsername('t-hookexp');

  beforeAll(async () => {
    await ensureTraineeClusterRole();
    receiver = await startWebhookReceiver({ '/hooks': endpoint });
    w = await testWorker({
      overrides: {
        WEBHOOKS: JSON.stringify([{ id: 'lms', url: receiver.url('/hooks'), secret: endpoint.secret, events: ['trainee.expired'] }]),
        ALLOW_INSECURE_UPSTREAMS: 'true',
        RESET_SCHEDULE_ENABLED: 'false',
        CLEANUP_SCHEDULE_ENABLED: 'false',
      },
    });
  });

  afterAll(async () => {
    if (await findKeycloakUser(ana).catch(() => undefined)) {
      const job = await w?.addDelete({ usernames: [ana] }).catch(() => undefined);
      if (job?.id) await waitForJob(w.queue, job.id, 150_000).catch(() => undefined);
    }
    await w?.close();
    await receiver?.close();
  });

  it('is sent once the expire job removed the trainee', async () => {
    const expiresAt = new Date(Date.now() + 8_000).toISOString();
    const create = await w.addCreate({ username: ana, email: emailOf(ana), expiresAt });
    const created = await waitForJob(w.queue, create.id as string, 150_000);
    expect(created.state, created.job.failedReason).toBe('completed');
    const password = await w.passwordOf(created.job);

    const expire = await waitForJob(w.queue, expireJobId(ana), 150_000);
    expect(expire.state, expire.job.failedReason).toBe('completed');
    expect(expire.job.returnvalue).toMatchObject({ username: ana, deleted: true });

    const [notice] = await eventually('trainee.expired delivered', async () => {
      const found = receiver.events('trainee.expired').filter((d) => d.event?.data.username === ana && d.status === 204);
      return found.length > 0 ? found : undefined;
    });
    expect(notice?.event?.data).toEqual({ username: ana, namespace: ana, expiresAt: expire.job.returnvalue.expiresAt, jobId: expireJobId(ana) });
    expect(receiver.deliveries.every((d) => d.verified)).toBe(true);
    expect(receiver.deliveries.some((d) => d.body.includes(password as string))).toBe(false);
    // Created and deleted are not subscribed here: only the expiry reached the receiver.
    expect(new Set(receiver.deliveries.map((d) => d.event?.type))).toEqual(new Set(['trainee.expired']));
    // Nobody wants trainee.expiring: no scan is scheduled.
    const webhooks = new Queue(WEBHOOKS_QUEUE, { connection: w.queue.opts.connection, prefix: w.config.QUEUE_PREFIX });
    try {
      expect((await webhooks.getJobSchedulers(0, -1, true)).map((s) => s.id ?? s.key)).toEqual([]);
    } finally {
      await webhooks.close();
    }
  });
});
