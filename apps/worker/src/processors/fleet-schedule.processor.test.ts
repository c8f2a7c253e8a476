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

  it('a firing that meets a pending run asked differently (a manual purge) is skipped, and says why', async () => {
    // BullMQ's add under a taken id changes nothing; the read-back finds the manual purge, still waiting.
    const pending = { id: 'reset', timestamp: 1, data: { runId: 'abc', requestedAt: new Date(0).toISOString(), origin: 'api', mode: 'purge' }, getState: async () => 'waiting' };
    const fleet = { name: 'fleet', opts: { prefix: 'test' }, add: async (name: string, data: object) => ({ id: 'reset', name, timestamp: 2, data }), getJob: async () => pending };
    const processor = fleetScheduleProcessor({ fleet: fleet as never, jobOptions: {}, redis: {} as never, log: createLogger({ name: 'test', level: 'silent' }) });
    await expect(processor(fakeJob('reset', {}), undefined, undefined)).resolves.toEqual({
      runJobId: 'reset',
      created: false,
      skipped: 'a different reset run is still pending under the id "reset" (mode: "purge" pending, "recreate" asked): nothing was enqueued; try again when it has ended',
    });
    expect(pending.data.mode).toBe('purge');
  });
});
