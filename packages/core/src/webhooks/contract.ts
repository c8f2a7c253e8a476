import { z } from 'zod';
import { WEBHOOK_EVENT_TYPES, type WebhookEventType } from '../config/webhooks.js';

/**
 * The `webhooks` queue: one `deliver` job per (subscription, event), and the scheduled
 * `expiring-scan`. A delivery's data names its subscription by id and holds the event; the
 * subscription's URL and secret stay in the worker's configuration (so Bull Board never
 * shows them) and are looked up at send time.
 */
export const WEBHOOKS_QUEUE = 'webhooks';
export const WEBHOOK_JOBS = { deliver: 'deliver', expiringScan: 'expiring-scan' } as const;

/** What a receiver gets as the body: `{type, timestamp, data}`. Never a password. */
export const webhookEvent = z.object({
  /** The `webhook-id` header: the same for every try and every subscription, so receivers can de-duplicate. */
  id: z.string().regex(/^[A-Za-z0-9_.-]{1,200}$/),
  type: z.enum(WEBHOOK_EVENT_TYPES),
  /** When it happened (ISO 8601). */
  timestamp: z.iso.datetime({ offset: true }),
  data: z.record(z.string(), z.unknown()),
});
export type WebhookEvent = z.infer<typeof webhookEvent>;

export const webhookDeliveryData = z.object({
  subscription: z.string().min(1),
  event: webhookEvent,
});
export type WebhookDeliveryData = z.infer<typeof webhookDeliveryData>;

/** The body sent: the event without its id (which travels in the `webhook-id` header). */
export function webhookBody(event: WebhookEvent): string {
  return JSON.stringify({ type: event.type, timestamp: event.timestamp, data: event.data });
}

/** BullMQ refuses `:` in ids; event ids are built from job ids and usernames, which have none. */
export function webhookEventId(type: WebhookEventType, ...parts: Array<string | number>): string {
  return `msg_${type.replace('.', '_')}_${parts.join('_')}`.replace(/[^A-Za-z0-9_.-]/g, '-');
}

export const deliveryJobId = (event: WebhookEvent, subscription: string): string => `${event.id}.${subscription}`;

export function webhookJobOptions(config: { WEBHOOK_ATTEMPTS: number; WEBHOOK_BACKOFF_MS: number }) {
  return {
    attempts: config.WEBHOOK_ATTEMPTS,
    backoff: { type: 'exponential' as const, delay: config.WEBHOOK_BACKOFF_MS },
    removeOnComplete: { age: 7 * 24 * 3600, count: 10_000 },
    removeOnFail: { age: 30 * 24 * 3600, count: 10_000 },
  };
}
