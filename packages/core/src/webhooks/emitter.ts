import type { JobsOptions, Queue } from 'bullmq';
import type { WebhookEventType, WebhookSubscription } from '../config/webhooks.js';
import { deliveryJobId, WEBHOOK_JOBS, webhookEventId, type WebhookDeliveryData, type WebhookEvent } from './contract.js';

/** A trainee as events describe it: never a password. */
export interface TraineeFacts {
  username: string;
  /** The playground's namespace (the username). */
  namespace?: string | undefined;
  email?: string | undefined;
  expiresAt?: string | undefined;
  /** The job that did it, when one did. */
  jobId?: string | undefined;
}

const traineeData = (t: TraineeFacts): Record<string, unknown> => ({
  username: t.username,
  namespace: t.namespace ?? t.username,
  ...(t.email ? { email: t.email } : {}),
  ...(t.expiresAt ? { expiresAt: t.expiresAt } : {}),
  ...(t.jobId ? { jobId: t.jobId } : {}),
});

/**
 * Turns events into deliveries: one `deliver` job per subscription that wants the event's
 * type, with a fixed job id (event id + subscription), so an event emitted twice (a job run
 * again after a crash) is delivered once while its delivery job is kept.
 */
export class WebhookEmitter {
  constructor(
    private readonly queue: Pick<Queue, 'addBulk'> | undefined,
    private readonly subscriptions: readonly WebhookSubscription[],
    private readonly jobOptions: JobsOptions,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** Whether any subscription wants this type (no work at all otherwise). */
  wants(type: WebhookEventType): boolean {
    return this.subscriptions.some((s) => s.events.includes(type));
  }

  async emit(type: WebhookEventType, idParts: Array<string | number>, data: Record<string, unknown>): Promise<WebhookEvent | undefined> {
    const targets = this.subscriptions.filter((s) => s.events.includes(type));
    if (targets.length === 0 || !this.queue) return undefined;
    const event: WebhookEvent = { id: webhookEventId(type, ...idParts), type, timestamp: this.now().toISOString(), data };
    await this.queue.addBulk(
      targets.map((s) => ({
        name: WEBHOOK_JOBS.deliver,
        data: { subscription: s.id, event } satisfies WebhookDeliveryData,
        opts: { ...this.jobOptions, jobId: deliveryJobId(event, s.id) },
      })),
    );
    return event;
  }

  /** A create made a new trainee (`job` = the create job: its id and creation time make the event's id). */
  traineeCreated(job: { id: string; timestamp: number }, trainee: TraineeFacts) {
    return this.emit('trainee.created', [job.id, job.timestamp], traineeData({ ...trainee, jobId: job.id }));
  }

  traineeDeleted(job: { id: string; timestamp: number }, trainee: TraineeFacts) {
    return this.emit('trainee.deleted', [job.id, job.timestamp], traineeData({ ...trainee, jobId: job.id }));
  }

  /** Once per trainee and expiry value (the id is built from both). */
  traineeExpiring(trainee: TraineeFacts & { expiresAt: string }) {
    return this.emit('trainee.expiring', [trainee.username, Date.parse(trainee.expiresAt)], traineeData(trainee));
  }

  traineeExpired(trainee: TraineeFacts & { expiresAt: string }) {
    return this.emit('trainee.expired', [trainee.username, Date.parse(trainee.expiresAt)], traineeData(trainee));
  }

  jobFailed(job: { id: string; timestamp: number; queue: string; name: string; attemptsMade: number; reason: string; username?: string | undefined }) {
    return this.emit('job.failed', [job.queue, job.id, job.timestamp], {
      jobId: job.id,
      queue: job.queue,
      name: job.name,
      attemptsMade: job.attemptsMade,
      reason: job.reason,
      ...(job.username ? { username: job.username } : {}),
    });
  }

  fleetCompleted(job: { id: string; timestamp: number; kind: string; runId?: string | undefined }, result: unknown) {
    return this.emit('fleet.completed', [job.id, job.timestamp], { jobId: job.id, kind: job.kind, ...(job.runId ? { runId: job.runId } : {}), result });
  }
}

/**
 * For the expiry job: tells subscribers a trainee was removed because their `expiresAt`
 * passed. Call it after the removal succeeded; calling it again for the same trainee and
 * expiry is harmless (same event id).
 */
export function emitTraineeExpired(emitter: Pick<WebhookEmitter, 'traineeExpired'>, trainee: TraineeFacts & { expiresAt: string }): Promise<WebhookEvent | undefined> {
  return emitter.traineeExpired(trainee);
}
