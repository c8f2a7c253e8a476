import { describe, expect, it } from 'vitest';
import { BullExpiryScheduler } from './expiry-scheduler.js';

/** A queue holding at most one job, in the given state; every write is recorded. */
function queueWith(state: string | undefined) {
  const writes: string[] = [];
  const job = state === undefined ? undefined : { getState: async () => state, remove: async () => void writes.push('remove') };
  const queue = { getJob: async () => job, add: async () => void writes.push('add') };
  return { writes, scheduler: new BullExpiryScheduler(queue as never, {}) };
}

describe('BullExpiryScheduler.isMissing (sync dry run)', () => {
  it('says what ensure would do, and writes nothing', async () => {
    for (const [state, missing] of [[undefined, true], ['delayed', false], ['active', false], ['completed', true], ['failed', true]] as const) {
      const { writes, scheduler } = queueWith(state);
      expect(await scheduler.isMissing('ana'), String(state)).toBe(missing);
      expect(writes).toEqual([]);
      // ensure agrees: it adds exactly when isMissing said so.
      expect(await scheduler.ensure('ana')).toBe(missing);
    }
  });
});
