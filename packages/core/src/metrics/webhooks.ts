// Webhook deliveries: counted by the worker's delivery processor.
import { Counter } from 'prom-client';
import { metricsRegistry } from './registry.js';

/** One per delivery try: `delivered` (2xx), `retried` (will be tried again), `failed` (gave up). */
export const webhookDeliveries = new Counter({
  name: 'kup_webhook_deliveries_total',
  help: 'Webhook delivery tries by event type and outcome (delivered, retried, failed)',
  labelNames: ['event', 'outcome'] as const,
  registers: [metricsRegistry],
});
