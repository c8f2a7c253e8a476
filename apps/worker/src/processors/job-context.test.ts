import { describe, expect, it } from 'vitest';
import { jobState } from './job-context.js';
import { fakeJob } from './test-job.js';

interface S {
  createdAt?: string;
  userId?: string;
  owned?: { namespace?: boolean };
}

describe('jobState', () => {
  it('writes what was staged with the next patch, in one write', async () => {
    const job = fakeJob('create', { username: 'ada' });
    const state = jobState<S>(job);
    state.stage({ createdAt: '2026-11-27T00:00:00.000Z', userId: 'u-1' });
    expect(state.get()).toEqual({ createdAt: '2026-11-27T00:00:00.000Z', userId: 'u-1' });
    expect(job.dataUpdates).toEqual([]);

    await state.patch({ owned: { namespace: true } });
    expect(job.dataUpdates).toEqual([{ username: 'ada', state: { createdAt: '2026-11-27T00:00:00.000Z', userId: 'u-1', owned: { namespace: true } } }]);
  });

  it('loses what was staged when the attempt ends before a patch: the next attempt reads the last write', async () => {
    const job = fakeJob('create', { username: 'ada', state: { owned: { namespace: true } } });
    jobState<S>(job).stage({ userId: 'u-1' });
    expect(jobState<S>(job).get()).toEqual({ owned: { namespace: true } });
  });
});
