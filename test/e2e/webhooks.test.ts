// Webhooks against the real stack: a worker with two subscriptions delivering to a local
// receiver that checks every signature with the Standard Webhooks library and fails on
// purpose. Created, deleted, expiring, failed-job and fleet events; retries; a delivery
// that never gets through ends failed, in the queue and in the metric; no password in any
// body, header, job or log line.
import { randomBytes } from 'node:crypto';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  defaultJobOptions,
  deliveryJobId,
  enqueueFleetRun,
  expiringNoticeKey,
  QUEUES,
  scrapeMetrics,
  WEBHOOK_JOBS,
  WEBHOOKS_QUEUE,
  webhookEventId,
} from '@kup/core';
import { emailOf, uniqueUsername } from '../helpers/names.js';
import { eventually } from '../helpers/poll.js';
import { sampleValue } from '../helpers/prometheus.js';
import { ensureTraineeClusterRole } from '../helpers/stack.js';
import { startWebhookReceiver, type WebhookReceiver } from '../helpers/webhook-receiver.js';
import { testWorker, waitForJob, type TestWorker } from '../helpers/worker.js';

const secret = () => `whsec_${randomBytes(32).toString('base64')}`;
const FLAKY = { secret: secret(), failFirst: 2 };
const DEAD = { secret: secret(), alwaysFail: true };
const ATTEMPTS = 3;

const failedCount = async (event: string) => sampleValue((await scrapeMetrics()).body, 'kup_webhook_deliveries_total', { event, outcome: 'failed' }) ?? 0;

describe('webhooks: signed deliveries to a receiver, retried, never with a password', () => {
  let receiver: WebhookReceiver;
  let w: TestWorker;
  let redis: Redis;
  let webhooks: Queue;
  const ana = uniqueUsername('t-hook');
  // Within WEBHOOK_EXPIRING_AHEAD (72 h): the scan announces it.
  const expiresAt = new Date(Date.now() + 48 * 3600_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
  let password: string | undefined;
  let failedBefore = 0;

  beforeAll(async () => {
    await ensureTraineeClusterRole();
    receiver = await startWebhookReceiver({ '/flaky': FLAKY, '/dead': DEAD });
    const subscriptions = [
      { id: 'flaky', url: receiver.url('/flaky'), secret: FLAKY.secret, events: ['trainee.created', 'trainee.deleted', 'trainee.expiring', 'job.failed', 'fleet.completed'] },
      { id: 'dead', url: receiver.url('/dead'), secret: DEAD.secret, events: ['trainee.created'] },
    ];
    failedBefore = await failedCount('trainee.created');
    w = await testWorker({
      overrides: {
        WEBHOOKS: JSON.stringify(subscriptions),
        WEBHOOK_ATTEMPTS: String(ATTEMPTS),
        WEBHOOK_BACKOFF_MS: '200',
        ALLOW_INSECURE_UPSTREAMS: 'true',
        RESET_SCHEDULE_ENABLED: 'false',
        CLEANUP_SCHEDULE_ENABLED: 'false',
        JOB_ATTEMPTS: '2',
        SCHEDULE_CHECK_INTERVAL_SECONDS: '1',
        // Scans run when the test says: a scheduled one would announce other tests' trainees mid-test.
        WEBHOOK_EXPIRING_SCAN_SCHEDULE: '0 0 1 1 *',
      },
    });
    redis = new Redis(w.config.REDIS_URL, { maxRetriesPerRequest: null });
    webhooks = new Queue(WEBHOOKS_QUEUE, { connection: redis, prefix: w.config.QUEUE_PREFIX });
  });

  afterAll(async () => {
    const job = await w?.addDelete({ usernames: [ana] }).catch(() => undefined);
    if (job?.id) await waitForJob(w.queue, job.id, 150_000).catch(() => undefined);
    await webhooks?.obliterate({ force: true }).catch(() => undefined);
    await webhooks?.close();
    await w?.close();
    await redis?.quit();
    await receiver?.close();
  });

  it('a create sends trainee.created, retried through two 500s, signed, without the password', async () => {
    const create = await w.addCreate({ username: ana, email: emailOf(ana), expiresAt });
    const done = await waitForJob(w.queue, create.id as string, 150_000);
    expect(done.state, done.job.failedReason).toBe('completed');
    password = await w.passwordOf(done.job);
    expect(password).toBeTruthy();

    const [delivered] = await eventually('trainee.created delivered', async () => {
      const ok = receiver.events('trainee.created', '/flaky').filter((d) => d.status === 204);
      return ok.length > 0 ? ok : undefined;
    });
    expect(delivered?.event).toEqual({
      type: 'trainee.created',
      timestamp: expect.any(String),
      data: { username: ana, namespace: ana, email: emailOf(ana), expiresAt, jobId: create.id },
    });
    // Three tries of one message: the same webhook-id, each signed (verified) afresh.
    const tries = receiver.deliveries.filter((d) => d.path === '/flaky');
    expect(tries.map((d) => d.status)).toEqual([500, 500, 204]);
    expect(tries.every((d) => d.verified)).toBe(true);
    expect(new Set(tries.map((d) => d.headers['webhook-id']))).toEqual(new Set([webhookEventId('trainee.created', create.id as string, create.timestamp)]));

    const job = await webhooks.getJob(deliveryJobId({ id: tries[0]?.headers['webhook-id'] as string } as never, 'flaky'));
    expect(await job?.getState()).toBe('completed');
    expect(job?.attemptsMade).toBe(3);
  });

  it('a delivery that never gets through ends as a failed job and in the metric', async () => {
    const eventId = webhookEventId('trainee.created', `create-${ana}`, (await w.queue.getJob(`create-${ana}`))?.timestamp as number);
    const done = await waitForJob(webhooks, `${eventId}.dead`, 30_000);
    expect(done.state).toBe('failed');
    expect(done.job.attemptsMade).toBe(ATTEMPTS);
    expect(done.job.failedReason).toBe('DELIVERY_FAILED: subscription "dead": answered HTTP 500');
    expect(receiver.deliveries.filter((d) => d.path === '/dead')).toHaveLength(ATTEMPTS);
    expect(await failedCount('trainee.created')).toBe(failedBefore + 1);
  });

  it('the expiring scan announces the trainee once per expiry value, even after the delivery job is gone', async () => {
    const scan = async () => {
      const job = await webhooks.add(WEBHOOK_JOBS.expiringScan, {});
      const done = await waitForJob(webhooks, job.id as string, 60_000);
      expect(done.state, done.job.failedReason).toBe('completed');
    };
    await scan();
    const [notice] = await eventually('trainee.expiring delivered', async () => {
      const mine = receiver.events('trainee.expiring', '/flaky').filter((d) => d.event?.data.username === ana && d.status === 204);
      return mine.length > 0 ? mine : undefined;
    });
    expect(notice?.event?.data).toEqual({ username: ana, namespace: ana, email: emailOf(ana), expiresAt });
    expect(await redis.ttl(expiringNoticeKey(w.config.QUEUE_PREFIX, ana, expiresAt))).toBeGreaterThan(48 * 3600);

    // Retention removes delivery jobs: the Redis mark, not the job id, keeps it to one notice.
    const deliveryId = `${notice?.headers['webhook-id'] as string}.flaky`;
    await waitForJob(webhooks, deliveryId);
    await (await webhooks.getJob(deliveryId))?.remove();
    await scan();
    expect(await webhooks.getJob(deliveryId)).toBeUndefined();
    expect(receiver.events('trainee.expiring').filter((d) => d.event?.data.username === ana)).toHaveLength(1);
  });

  it('schedules the expiring scan, and puts an edited scheduler back', async () => {
    const scheduler = async () => (await webhooks.getJobSchedulers(0, -1, true)).find((s) => (s.id ?? s.key) === WEBHOOK_JOBS.expiringScan);
    expect(await scheduler()).toMatchObject({ pattern: w.config.WEBHOOK_EXPIRING_SCAN_SCHEDULE, tz: 'UTC' });
    // As someone with a Bull Board admin token could: every minute.
    await webhooks.upsertJobScheduler(WEBHOOK_JOBS.expiringScan, { pattern: '* * * * *' }, { name: WEBHOOK_JOBS.expiringScan });
    expect((await scheduler())?.pattern).toBe('* * * * *');
    await eventually('scheduler put back', async () => ((await scheduler())?.pattern === w.config.WEBHOOK_EXPIRING_SCAN_SCHEDULE ? true : undefined), 15_000);
  });

  it('a fleet run sends fleet.completed; a job that fails for good sends job.failed', async () => {
    const fleet = new Queue(QUEUES.fleet, { connection: redis, prefix: w.config.QUEUE_PREFIX });
    try {
      const { job } = await enqueueFleetRun(fleet, 'sync', { username: ana }, { origin: 'test', jobOptions: defaultJobOptions(w.config), redis });
      const done = await waitForJob(fleet, job.id as string, 120_000);
      expect(done.state, done.job.failedReason).toBe('completed');
      const [completed] = await eventually('fleet.completed delivered', async () => {
        const found = receiver.events('fleet.completed').filter((d) => d.event?.data.jobId === job.id);
        return found.length > 0 ? found : undefined;
      });
      expect(completed?.event?.data).toMatchObject({ kind: 'sync', runId: (job.data as { runId: string }).runId, result: expect.any(Object) });
    } finally {
      await fleet.close();
    }

    // A reserved namespace: the worker refuses it for good and touches nothing.
    const reserved = `kube-${randomBytes(4).toString('hex')}`;
    const create = await w.addCreate({ username: reserved, email: emailOf(reserved) });
    const failed = await waitForJob(w.queue, create.id as string);
    expect(failed.state).toBe('failed');
    const [notice] = await eventually('job.failed delivered', async () => {
      const found = receiver.events('job.failed').filter((d) => d.event?.data.jobId === create.id);
      return found.length > 0 ? found : undefined;
    });
    expect(notice?.event?.data).toMatchObject({ queue: 'provisioning', name: 'create', username: reserved, reason: expect.stringMatching(/^NAMESPACE_RESERVED: /) });
  });

  it('a delete sends trainee.deleted; no password or secret anywhere', async () => {
    const del = await w.addDelete({ usernames: [ana] });
    const done = await waitForJob(w.queue, del.id as string, 150_000);
    expect(done.state, done.job.failedReason).toBe('completed');
    const [deleted] = await eventually('trainee.deleted delivered', async () => {
      const found = receiver.events('trainee.deleted').filter((d) => d.event?.data.username === ana);
      return found.length > 0 ? found : undefined;
    });
    expect(deleted?.event?.data).toEqual({ username: ana, namespace: ana, jobId: del.id });

    // Every body and header the receiver saw, every webhooks job's data and return value, the worker's logs.
    const jobs = await webhooks.getJobs(['completed', 'failed', 'waiting', 'delayed', 'active']);
    expect(jobs.length).toBeGreaterThan(0);
    const shown = [
      JSON.stringify(receiver.deliveries.map((d) => ({ body: d.body, headers: d.headers }))),
      JSON.stringify(jobs.map((j) => ({ data: j.data, returnvalue: j.returnvalue, failedReason: j.failedReason }))),
      w.logs.join('\n'),
    ].join('\n');
    for (const value of [password as string, FLAKY.secret, DEAD.secret, FLAKY.secret.slice(6), receiver.url('/flaky')]) {
      expect(shown.includes(value), `"${value.slice(0, 12)}…" shown`).toBe(false);
    }
  });
});
