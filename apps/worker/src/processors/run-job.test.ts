import { DelayedError, UnrecoverableError } from 'bullmq';
import { describe, expect, it, vi } from 'vitest';
import { LOCKED, ProvisionerError, UpstreamError, UsernameConflictError, createLogger } from '@kup/core';
import { jobFailure } from './job-failure.js';
import { ROLLBACK_TRIES, StalledTooOftenError, runJob, willRetry, type UserLocks } from './run-job.js';
import { fakeJob } from './test-job.js';

const log = createLogger({ name: 'test', level: 'silent' });
const free: UserLocks = { withLock: async (_u, _h, work) => work() };
const busy: UserLocks = { withLock: async () => LOCKED };

describe('jobFailure', () => {
  it('turns a permanent error into an UnrecoverableError whose message starts with its code', () => {
    const failure = jobFailure(new UsernameConflictError('jean'));
    expect(failure).toBeInstanceOf(UnrecoverableError);
    expect(failure.message).toBe('USERNAME_CONFLICT: username "jean" already belongs to another user');
  });

  it('keeps a retryable error retryable, with its code, and unknown errors as INTERNAL', () => {
    const failure = jobFailure(new UpstreamError('grafana', 'create user', 503));
    expect(failure).not.toBeInstanceOf(UnrecoverableError);
    expect(failure.message).toBe('GRAFANA_ERROR: grafana create user answered 503');
    expect(jobFailure(new TypeError('x is undefined')).message).toBe('INTERNAL: x is undefined');
  });
});

describe('runJob', () => {
  it('delays the job without spending an attempt when another job holds the user', async () => {
    const job = fakeJob('create', {});
    const work = vi.fn();
    const before = Date.now();
    await expect(runJob({ job, token: 't', usernames: ['jean'], locks: busy, log, work })).rejects.toBeInstanceOf(DelayedError);
    expect(work).not.toHaveBeenCalled();
    expect(job.delayedUntil).toBeGreaterThanOrEqual(before + 2_000);
  });

  it('locks every username of the job, each once, in a stable order', async () => {
    const locked: string[] = [];
    const locks: UserLocks = { withLock: async (username, holder, work) => (locked.push(`${username}@${holder}`), work()) };
    await runJob({ job: fakeJob('delete', {}), token: 't', usernames: ['b', 'a', 'b'], locks, log, work: async () => 'ok' });
    expect(locked).toEqual(['a@delete-x', 'b@delete-x']);
  });

  const failing = (onFinalFailure: () => Promise<void>) =>
    runJob({
      job: fakeJob('create', {}),
      token: 't',
      usernames: ['jean'],
      locks: free,
      log,
      work: async () => {
        throw new ProvisionerError('NAMESPACE_CONFLICT', 'not ours');
      },
      onFinalFailure,
      rollbackBaseDelayMs: 1,
    });

  it('on a permanent failure tries the clean-up until it works, and keeps the original error', async () => {
    let calls = 0;
    const onFinalFailure = vi.fn(async () => {
      if (++calls < 3) throw new UpstreamError('kubernetes', 'delete Namespace', undefined);
    });
    const failure = failing(onFinalFailure);
    await expect(failure).rejects.toThrow(/^NAMESPACE_CONFLICT: not ours$/);
    await expect(failure).rejects.toBeInstanceOf(UnrecoverableError);
    expect(onFinalFailure).toHaveBeenCalledTimes(3);
  });

  it('gives the clean-up up after ROLLBACK_TRIES, swallowing its error', async () => {
    const onFinalFailure = vi.fn(async () => {
      throw new Error('rollback broke');
    });
    await expect(failing(onFinalFailure)).rejects.toThrow(/^NAMESPACE_CONFLICT: not ours$/);
    expect(onFinalFailure).toHaveBeenCalledTimes(ROLLBACK_TRIES);
  });

  it('cleans up after a retryable failure only on the last attempt', async () => {
    const error = new UpstreamError('keycloak', 'create user', 502);
    const run = (attemptsMade: number, onFinalFailure: () => Promise<void>) =>
      runJob({ job: fakeJob('create', {}, { attemptsMade, attempts: 3 }), token: 't', usernames: ['j'], locks: free, log, work: () => Promise.reject(error), onFinalFailure });

    const early = vi.fn(async () => undefined);
    await expect(run(0, early)).rejects.toThrow(/^KEYCLOAK_ERROR: /);
    expect(early).not.toHaveBeenCalled();

    const last = vi.fn(async () => undefined);
    await expect(run(2, last)).rejects.toThrow(/^KEYCLOAK_ERROR: /);
    expect(last).toHaveBeenCalledOnce();
  });

  it('fails a job interrupted stallLimit times for good, through its clean-up, without running its work', async () => {
    const run = (stalledCounter: number) => {
      const work = vi.fn(async () => 'done');
      const onFinalFailure = vi.fn(async (_error: unknown) => undefined);
      const result = runJob({ job: fakeJob('create', {}, { stalledCounter }), token: 't', usernames: ['j'], locks: free, log, stallLimit: 3, work, onFinalFailure });
      return { result, work, onFinalFailure };
    };
    const below = run(2);
    await expect(below.result).resolves.toBe('done');
    expect(below.onFinalFailure).not.toHaveBeenCalled();

    const at = run(3);
    await expect(at.result).rejects.toBeInstanceOf(UnrecoverableError);
    await expect(at.result).rejects.toThrow(/^STALLED: the job was interrupted 3 times/);
    expect(at.work).not.toHaveBeenCalled();
    expect(at.onFinalFailure).toHaveBeenCalledOnce();
    expect(at.onFinalFailure.mock.calls[0]?.[0]).toBeInstanceOf(StalledTooOftenError);
  });

  it('willRetry counts this attempt', () => {
    const retryable = new UpstreamError('grafana', 'x', 500);
    expect(willRetry(fakeJob('c', {}, { attemptsMade: 1, attempts: 3 }), retryable)).toBe(true);
    expect(willRetry(fakeJob('c', {}, { attemptsMade: 2, attempts: 3 }), retryable)).toBe(false);
    expect(willRetry(fakeJob('c', {}, { attemptsMade: 0, attempts: 3 }), new UsernameConflictError('x'))).toBe(false);
  });
});
