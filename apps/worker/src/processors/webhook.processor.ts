import { UnrecoverableError, type Job } from 'bullmq';
import {
  formatIssues,
  scanExpiring,
  signedWebhookHeaders,
  WEBHOOK_JOBS,
  webhookBody,
  webhookDeliveries,
  webhookDeliveryData,
  type ExpiringScanDeps,
  type Logger,
  type WebhookSubscription,
  type WebhookTransport,
} from '@kup/core';
import type { JobProcessor } from './processor.js';

export interface WebhookProcessorDeps {
  subscriptions: readonly WebhookSubscription[];
  transport: WebhookTransport;
  timeoutMs: number;
  /** For the expiring scan; without it, scan jobs fail. */
  scan: Omit<ExpiringScanDeps, 'signal'>;
  log: Logger;
  now?: () => number;
}

/**
 * The `webhooks` queue: `deliver` signs the event for its subscription at send time and
 * POSTs it; 2xx is delivered, anything else (another status, a network error, no answer
 * within WEBHOOK_TIMEOUT_MS) fails the try, which BullMQ retries with exponential backoff
 * until WEBHOOK_ATTEMPTS, then keeps as a failed job. Failure reasons name the
 * subscription by id, never its URL (which may hold a token). `expiring-scan` sends
 * `trainee.expiring` (see scanExpiring).
 */
export function webhookProcessor(deps: WebhookProcessorDeps): JobProcessor {
  const byId = new Map(deps.subscriptions.map((s) => [s.id, s]));
  const now = deps.now ?? Date.now;

  const deliver = async (job: Job) => {
    const parsed = webhookDeliveryData.safeParse(job.data);
    if (!parsed.success) throw new UnrecoverableError(`INVALID_INPUT: ${formatIssues(parsed.error)}`);
    const { subscription: id, event } = parsed.data;
    const subscription = byId.get(id);
    const fail = (why: string, retryable = true): never => {
      const last = !retryable || job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
      webhookDeliveries.inc({ event: event.type, outcome: last ? 'failed' : 'retried' });
      deps.log[last ? 'error' : 'warn']({ jobId: job.id, subscription: id, event: event.type, eventId: event.id, attempt: job.attemptsMade + 1, why }, last ? 'webhook delivery failed for good' : 'webhook delivery failed: trying again');
      const message = `DELIVERY_FAILED: subscription "${id}": ${why}`;
      throw retryable ? new Error(message) : new UnrecoverableError(message);
    };
    if (!subscription) return fail('no longer configured', false);
    // The subscription was narrowed since the event was queued: it no longer wants this.
    if (!subscription.events.includes(event.type)) return { skipped: `not subscribed to ${event.type} any more` };

    const body = webhookBody(event);
    const headers = { ...signedWebhookHeaders(subscription.secret, event.id, Math.floor(now() / 1000), body), 'user-agent': 'k8s-user-provisioner-webhooks' };
    let status: number;
    try {
      status = await deps.transport.post(subscription.url, headers, body, deps.timeoutMs);
    } catch (error) {
      return fail((error as Error).message);
    }
    if (status < 200 || status > 299) return fail(`answered HTTP ${status}`);
    webhookDeliveries.inc({ event: event.type, outcome: 'delivered' });
    deps.log.info({ jobId: job.id, subscription: id, event: event.type, eventId: event.id, status }, 'webhook delivered');
    return { status, attempts: job.attemptsMade + 1 };
  };

  return async (job, _token, signal) => {
    switch (job.name) {
      case WEBHOOK_JOBS.deliver:
        return deliver(job);
      case WEBHOOK_JOBS.expiringScan: {
        const outcome = await scanExpiring({ ...deps.scan, ...(signal ? { signal } : {}) });
        deps.log.info(outcome, 'expiring trainees scanned');
        return outcome;
      }
      default:
        throw new UnrecoverableError(`UNKNOWN_JOB: no processor for job "${job.name}" on queue "webhooks"`);
    }
  };
}
