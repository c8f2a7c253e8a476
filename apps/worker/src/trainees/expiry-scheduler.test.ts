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

describe('BullExpiryScheduler.cancel (the trainee is gone)', () => {
  it('removes a job not yet started, leaves a running or finished one, and is fine with none', async () => {
    for (const [state, removed] of [[undefined, false], ['delayed', true], ['waiting', true], ['prioritized', true], ['active', false], ['completed', false], ['failed', false]] as const) {
      const writes: string[] = [];
      const job = state === undefined ? undefined : { getState: async () => state };
      const queue = { getJob: async () => job, add: async () => undefined, remove: async (id: string) => (writes.push(`remove ${id}`), 1) };
      expect(await new BullExpiryScheduler(queue as never, {}).cancel('ana'), String(state)).toBe(removed);
      expect(writes, String(state)).toEqual(removed ? ['remove expire-ana'] : []);
    }
  });

  it('says so when a worker took the job between the look and the removal', async () => {
    const queue = { getJob: async () => ({ getState: async () => 'delayed' }), add: async () => undefined, remove: async () => 0 };
    expect(await new BullExpiryScheduler(queue as never, {}).cancel('ana')).toBe(false);
  });
});

describe('BullExpiryScheduler.schedule (a new expiry)', () => {
  it('moves the waiting job and drops the delete an earlier attempt had begun: at its new time it decides afresh', async () => {
    const updates: unknown[] = [];
    const delays: number[] = [];
    // An expire job waiting for its retry after removing the namespace and Keycloak user, then a create made the trainee again.
    const data = { username: 'ana', dueAt: '2026-11-26T12:00:00.000Z', state: { target: { username: 'ana', userId: 'u-1' }, removed: { namespace: true, keycloak: true } } };
    const job = {
      data,
      getState: async () => 'delayed',
      updateData: async (next: unknown) => void updates.push(next),
      changeDelay: async (delay: number) => void delays.push(delay),
    };
    const now = Date.parse('2026-11-27T00:00:00.000Z');
    const scheduler = new BullExpiryScheduler({ getJob: async () => job, add: async () => undefined } as never, {}, () => now);
    await scheduler.schedule('ana', '2026-12-27T00:00:00.000Z');
    expect(updates).toEqual([{ username: 'ana', dueAt: '2026-12-27T00:00:00.000Z' }]);
    expect(delays).toEqual([30 * 86_400_000]);
  });
});
