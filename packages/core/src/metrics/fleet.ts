// Metrics of the fleet runs: only the worker loads them (through the fleet module), so the API's /metrics does not show them.
import { Gauge } from 'prom-client';
import { metricsRegistry } from './registry.js';

/**
 * How many purgeable types the last purge inventory could not list (403: the worker may
 * not list them; 404: gone). Above 0, purge resets empty those types blind, in every
 * namespace: still correct, but without the inventory's speed-up.
 */
export const purgeInventoryUnlisted = new Gauge({
  name: 'kup_purge_inventory_unlisted_types',
  help: 'Purgeable types the last purge inventory could not list (purged blind in every namespace)',
  registers: [metricsRegistry],
});
