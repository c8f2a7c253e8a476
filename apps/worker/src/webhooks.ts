import { Queue, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { UndiciWebhookTransport } from '@kup/adapters';
import {
  createJobResult,
  deleteJobResult,
  describeError,
  emitTraineeExpired,
  expireJobResult,
  isFleetKind,
  newLockToken,
  RedisMutex,
  WEBHOOK_JOBS,
  WEBHOOKS_QUEUE,
  WebhookEmitter,
  webhookJobOptions,
  webhookSubscriptions,
  type IdentityProvider,
  type Logger,
  type TraineeFacts,
  type WebhookTransport,
  type WorkerEnv,
} from '@kup/core';
import type { JobProcessor } from './processors/processor.js';
import { webhookProcessor } from './processors/webhook.processor.js';

export interface WebhookWorkersDeps {
  redis: Redis;
  identity: Pick<IdentityProvider, 'listManaged'>;
  logger: Logger;
  /** Default: undici (UndiciWebhookTransport). */
  transport?: WebhookTransport;
  caFile?: string | undefined;
}

/**
 * The worker's webhooks: the emitter the event points call, the `webhooks` queue's worker
 * (only when subscriptions exist), the expiring scan's scheduler, and the wrappers that put
 * the event points around existing processors without changing them.
 */
export interface WebhookWorkers {
  readonly emitter: WebhookEmitter;
  /** The delivery worker; undefined without subscriptions. */
  readonly worker: Worker | undefined;
  /** `trainee.created` after a create that made a new trainee. */
  afterCreate(processor: JobProcessor): JobProcessor;
  /** `trainee.deleted` after a delete that found the trainee. */
  afterDelete(processor: JobProcessor): JobProcessor;
  /** `trainee.expired` after an expire job removed its trainee. */
  afterExpire(processor: JobProcessor): JobProcessor;
  /** `fleet.completed` when a fleet run returns its result. */
  afterFleetRun(processor: JobProcessor): JobProcessor;
  /** `job.failed` when a job of this worker fails for good (not on a try that will be retried). */
  watchFailures(worker: Worker): void;
  start(): Promise<void>;
  close(force?: boolean): Promise<void>;
}

const SCHEDULER_ID = WEBHOOK_JOBS.expiringScan;

export function createWebhookWorkers(config: WorkerEnv, deps: WebhookWorkersDeps): WebhookWorkers {
  const { redis, logger } = deps;
  const subscriptions = webhookSubscriptions(config);
  const connection = { connection: redis, prefix: config.QUEUE_PREFIX };
  const queue = new Queue(WEBHOOKS_QUEUE, connection);
  queue.on('error', (error) => logger.warn({ err: error.message, queue: WEBHOOKS_QUEUE }, 'queue error'));
  const emitter = new WebhookEmitter(queue, subscriptions, webhookJobOptions(config));
  const transport = deps.transport ?? (subscriptions.length > 0 ? new UndiciWebhookTransport({ timeoutMs: config.WEBHOOK_TIMEOUT_MS, caFile: deps.caFile }) : undefined);

  const worker = transport
    ? new Worker(
        WEBHOOKS_QUEUE,
        webhookProcessor({
          subscriptions,
          transport,
          timeoutMs: config.WEBHOOK_TIMEOUT_MS,
          scan: { identity: deps.identity, redis, emitter, prefix: config.QUEUE_PREFIX, aheadSeconds: config.WEBHOOK_EXPIRING_AHEAD },
          log: logger,
        }),
        { ...connection, concurrency: config.WEBHOOK_CONCURRENCY, autorun: false, lockDuration: config.WORKER_LOCK_DURATION_MS, stalledInterval: config.WORKER_STALLED_INTERVAL_MS },
      )
    : undefined;
  worker?.on('error', (error) => logger.error({ err: describeError(error), queue: WEBHOOKS_QUEUE }, 'worker error'));

  // An event that cannot be queued is logged, not turned into a failure of the job that did
  // the work: with Redis down the job cannot complete either, runs again and emits again.
  const emitting = async (what: string, send: () => Promise<unknown>) => {
    try {
      await send();
    } catch (error) {
      logger.error({ err: describeError(error), event: what }, 'webhook event not queued');
    }
  };
  const after = (what: string, onResult: (job: Job, result: unknown) => Promise<unknown> | undefined): ((p: JobProcessor) => JobProcessor) =>
    (processor) => async (job, token, signal) => {
      const result = await processor(job, token, signal);
      await emitting(what, async () => onResult(job, result));
      return result;
    };

  let running: Promise<void> | undefined;
  let recheck: NodeJS.Timeout | undefined;
  return {
    emitter,
    worker,
    afterCreate: after('trainee.created', (job, result) => {
      const trainee = createdTrainee(job, result);
      return trainee && emitter.traineeCreated({ id: job.id as string, timestamp: job.timestamp }, trainee);
    }),
    afterDelete: after('trainee.deleted', (job, result) => {
      const parsed = deleteJobResult.safeParse(result);
      if (!parsed.success || !parsed.data.found) return undefined;
      return emitter.traineeDeleted({ id: job.id as string, timestamp: job.timestamp }, { username: parsed.data.username });
    }),
    afterExpire: after('trainee.expired', (job, result) => {
      const parsed = expireJobResult.safeParse(result);
      if (!parsed.success || !parsed.data.deleted || !parsed.data.expiresAt) return undefined;
      return emitTraineeExpired(emitter, { username: parsed.data.username, expiresAt: parsed.data.expiresAt, jobId: job.id });
    }),
    afterFleetRun: after('fleet.completed', (job, result) => {
      if (!isFleetKind(job.name)) return undefined;
      const runId = (job.data as { runId?: unknown }).runId;
      return emitter.fleetCompleted({ id: job.id as string, timestamp: job.timestamp, kind: job.name, runId: typeof runId === 'string' ? runId : undefined }, result);
    }),
    watchFailures(w) {
      if (!emitter.wants('job.failed')) return;
      w.on('failed', (job) => {
        const failure = job && finalFailure(job, w.name);
        if (failure) void emitting('job.failed', () => emitter.jobFailed(failure));
      });
    },
    async start() {
      if (worker) {
        running = worker.run().catch((error: unknown) => logger.error({ err: describeError(error), queue: WEBHOOKS_QUEUE }, 'worker stopped'));
        await worker.waitUntilReady();
      }
      const wanted = emitter.wants('trainee.expiring');
      await ensureExpiringScan(config, queue, redis, wanted, logger);
      // A scheduler changed in Redis (Bull Board, by hand) is put back, as the fleet's are.
      recheck = setInterval(() => void ensureExpiringScan(config, queue, redis, wanted, logger), config.SCHEDULE_CHECK_INTERVAL_SECONDS * 1000);
      recheck.unref();
      logger.info({ subscriptions: subscriptions.map((s) => ({ id: s.id, events: s.events })) }, 'webhooks ready');
    },
    async close(force = false) {
      clearInterval(recheck);
      await worker?.close(force);
      await running;
      await queue.close().catch(() => undefined);
      await transport?.close?.();
    },
  };
}

/** What `trainee.created` says of a create's result; undefined when the create made nobody new. */
export function createdTrainee(job: Pick<Job, 'data'>, result: unknown): TraineeFacts | undefined {
  const parsed = createJobResult.safeParse(result);
  if (!parsed.success || parsed.data.alreadyProvisioned) return undefined;
  // The expiry the create settled on (the request's, or the default it computed) is in its state.
  const expiresAt = (job.data as { state?: { expiresAt?: string } }).state?.expiresAt;
  const { username, namespace, email } = parsed.data;
  return { username, namespace, email, expiresAt };
}

/** What `job.failed` says of a failed try; undefined when BullMQ will try the job again. */
export function finalFailure(job: Pick<Job, 'id' | 'timestamp' | 'name' | 'attemptsMade' | 'failedReason' | 'finishedOn' | 'data'>, queue: string) {
  // finishedOn is set only when BullMQ gives up on the job (no retry follows).
  if (typeof job.finishedOn !== 'number') return undefined;
  const data = (job.data ?? {}) as { username?: unknown; usernames?: unknown };
  const username = typeof data.username === 'string' ? data.username : Array.isArray(data.usernames) && typeof data.usernames[0] === 'string' ? data.usernames[0] : undefined;
  return { id: job.id as string, timestamp: job.timestamp, queue, name: job.name, attemptsMade: job.attemptsMade, reason: job.failedReason, username };
}

/**
 * The expiring scan's scheduler, when a subscription wants `trainee.expiring` (removed
 * otherwise); run at start and every SCHEDULE_CHECK_INTERVAL_SECONDS. Only a scheduler that
 * differs from the configuration is written, by one process at a time (BullMQ's concurrent
 * upserts of one scheduler misbehave); the others, with the same configuration, have
 * nothing to change.
 */
export async function ensureExpiringScan(config: Pick<WorkerEnv, 'QUEUE_PREFIX' | 'WEBHOOK_EXPIRING_SCAN_SCHEDULE' | 'SCHEDULE_TZ'>, queue: Queue, redis: Redis, wanted: boolean, logger: Logger): Promise<void> {
  try {
    const found = (await queue.getJobSchedulers(0, -1, true)).filter((s) => (s.id ?? s.key) === SCHEDULER_ID);
    const current = found.length === 1 && found[0]?.pattern === config.WEBHOOK_EXPIRING_SCAN_SCHEDULE && (found[0]?.tz ?? 'UTC') === config.SCHEDULE_TZ && found[0]?.every === undefined;
    if (wanted ? current : found.length === 0) return;
    const mutex = new RedisMutex(redis);
    const key = `${config.QUEUE_PREFIX}:lock:webhook-schedules`;
    const holder = newLockToken();
    if (!(await mutex.acquire(key, holder, 30_000))) return;
    try {
      if (wanted) {
        await queue.upsertJobScheduler(
          SCHEDULER_ID,
          { pattern: config.WEBHOOK_EXPIRING_SCAN_SCHEDULE, tz: config.SCHEDULE_TZ },
          { name: WEBHOOK_JOBS.expiringScan, data: {}, opts: { removeOnComplete: { count: 50 }, removeOnFail: { count: 50 } } },
        );
        logger.info({ pattern: config.WEBHOOK_EXPIRING_SCAN_SCHEDULE, tz: config.SCHEDULE_TZ }, 'webhook expiring scan scheduled');
      } else {
        await queue.removeJobScheduler(SCHEDULER_ID);
      }
    } finally {
      await mutex.release(key, holder);
    }
  } catch (error) {
    logger.warn({ err: describeError(error) }, 'webhook scan schedule not checked');
  }
}
