import { describe, expect, it } from 'vitest';
import { createLogger } from '@kup/core';
import { fleetScheduleProcessor } from './fleet-schedule.processor.js';
import { fakeJob } from './test-job.js';

describe('fleetScheduleProcessor', () => {
  it('a sync template edited to a dry run fails and enqueues nothing (the scheduled sync is never a dry run)', async () => {
    const added: unknown[] = [];
    // Any use of the queue would be an enqueue: recorded, so the test sees it.
    const fleet = new Proxy({}, { get: (_target, name) => (...args: unknown[]) => added.push([name, args]) });
    const processor = fleetScheduleProcessor({ fleet: fleet as never, jobOptions: {}, redis: {} as never, log: createLogger({ name: 'test', level: 'silent' }) });
    await expect(processor(fakeJob('sync', { dryRun: true }), undefined, undefined)).rejects.toThrow(/^INVALID_INPUT: a scheduled sync is never a dry run/);
    expect(added).toEqual([]);
  });
});
