import { getEventListeners } from 'node:events';
import type { Job, QueueEvents } from 'bullmq';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { JobWaiter } from './job-waiter.js';

/** A job that never finishes: each waitUntilFinished slice times out after its ttl. */
function neverEnding(): { job: Job; slices: () => number } {
  let slices = 0;
  const job = {
    id: 'create-x',
    waitUntilFinished: (_events: QueueEvents, ttl: number) => {
      slices += 1;
      return new Promise((_resolve, reject) => setTimeout(() => reject(new Error('timed out')), ttl));
    },
  } as unknown as Job;
  return { job, slices: () => slices };
}

const waiter = new JobWaiter({ events: () => ({}) as QueueEvents, isFinished: async () => false });

describe('JobWaiter', () => {
  const warnings: Error[] = [];
  const onWarning = (warning: Error): void => void warnings.push(warning);
  beforeEach(() => {
    vi.useFakeTimers();
    warnings.length = 0;
    process.on('warning', onWarning);
  });
  afterEach(() => {
    process.off('warning', onWarning);
    vi.useRealTimers();
  });

  it('holds one abort listener for a long wait, and none once it ends', async () => {
    const { job, slices } = neverEnding();
    const controller = new AbortController();
    let most = 0;
    const done = waiter.waitForEnd('provisioning', job, 120_000, controller.signal);
    for (let t = 0; t < 120_000; t += 1_000) {
      await vi.advanceTimersByTimeAsync(1_000);
      most = Math.max(most, getEventListeners(controller.signal, 'abort').length);
    }
    await done;
    expect(slices()).toBeGreaterThanOrEqual(60); // 2-second slices over two minutes
    expect(most).toBe(1);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(0); // let a warning, if any, be emitted
    expect(warnings.filter((w) => w.name === 'MaxListenersExceededWarning')).toEqual([]);
  });

  it('returns at once when the signal aborts, removing its listener', async () => {
    const { job } = neverEnding();
    const controller = new AbortController();
    let returned = false;
    const done = waiter.waitForEnd('provisioning', job, 60_000, controller.signal).then(() => (returned = true));
    await vi.advanceTimersByTimeAsync(5_000);
    expect(returned).toBe(false);
    controller.abort();
    await vi.advanceTimersByTimeAsync(0);
    expect(returned).toBe(true);
    await done;
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
  });
});
