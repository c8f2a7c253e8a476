import { describe, expect, it } from 'vitest';
import { createLogger, type SecretStore } from '@kup/core';
import { jobState, stepContext } from './job-context.js';
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

  it('writes nothing once the attempt\'s signal is aborted (its lock lost: the state may be another run\'s)', async () => {
    const job = fakeJob('create', { username: 'ada', state: { owned: { namespace: true } } });
    const stop = new AbortController();
    const state = jobState<S>(job, stop.signal);
    stop.abort(new Error('lock lost'));
    await expect(state.patch({ owned: { namespace: false } })).rejects.toThrow('lock lost');
    expect(job.dataUpdates).toEqual([]);
  });

  it('loses what was staged when the attempt ends before a patch: the next attempt reads the last write', async () => {
    const job = fakeJob('create', { username: 'ada', state: { owned: { namespace: true } } });
    jobState<S>(job).stage({ userId: 'u-1' });
    expect(jobState<S>(job).get()).toEqual({ owned: { namespace: true } });
  });
});

describe('stepContext', () => {
  it('starts no step once the attempt\'s signal is aborted: progress, reported before each, throws', async () => {
    const job = fakeJob('create', { username: 'ada' });
    const stop = new AbortController();
    const ctx = stepContext<S>(job, {} as SecretStore, createLogger({ name: 'test', level: 'silent' }), stop.signal);
    await ctx.progress('identity', 0, 2);
    stop.abort(new Error('lock lost'));
    await expect(ctx.progress('namespace', 1, 2)).rejects.toThrow('lock lost');
    expect(job.progressUpdates).toEqual([{ step: 'identity', done: 0, total: 2 }]);
  });
});
