import { DelayedError, UnrecoverableError } from 'bullmq';
import { describe, expect, it, vi } from 'vitest';
import { LOCKED, LockLostError, ProvisionerError, UpstreamError, UsernameConflictError, createLogger } from '@kup/core';
import { jobFailure } from './job-failure.js';
import { AttemptSignal, ROLLBACK_TRIES, StalledTooOftenError, runJob, runTraineeJob, stopOnLostJobLocks, willRetry, type UserLocks } from './run-job.js';
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

  it('locks every username of the job, each once, in a stable order, as this attempt', async () => {
    const locked: string[][] = [];
    const locks: UserLocks = { withLock: async (username, holder, work) => (locked.push([username, holder]), work()) };
    const job = fakeJob('delete', {});
    await runJob({ job, token: 't', usernames: ['b', 'a', 'b'], locks, log, work: async () => 'ok' });
    await runJob({ job, token: 't', usernames: ['a'], locks, log, work: async () => 'ok' });
    expect(locked.map(([username]) => username)).toEqual(['a', 'b', 'a']);
    const [first, second, again] = locked.map(([, holder]) => holder);
    // The job's id and a token of the attempt: another attempt of the job is another holder.
    expect(first).toMatch(/^delete-x:[0-9a-f-]{36}$/);
    expect(second).toBe(first);
    expect(again).not.toBe(first);
  });

  describe('when a lock is lost', () => {
    /** Locks that report the user's lock lost while the work runs, as a renewal would. */
    const losing: UserLocks = { withLock: async (_u, _h, work, options) => (setImmediate(() => options?.onLost?.('not-ours')), work()) };

    it('aborts the attempt\'s signal and fails USER_BUSY, retryable, never undone even as the last attempt', async () => {
      const attempt = new AttemptSignal(undefined);
      const undo = vi.fn(async () => undefined);
      const after = vi.fn();
      const failure = await runJob({
        job: fakeJob('create', {}, { attemptsMade: 2, attempts: 3 }),
        token: 't',
        usernames: ['jean'],
        locks: losing,
        log,
        attempt,
        work: async () => {
          await new Promise((resolve) => attempt.signal.addEventListener('abort', resolve));
          attempt.signal.throwIfAborted();
          after();
        },
        onFinalFailure: undo,
      }).catch((error: unknown) => error);
      expect(failure).not.toBeInstanceOf(UnrecoverableError);
      expect((failure as Error).message).toBe('USER_BUSY: lost the lock on trainee "jean" (taken or expired) while working: another run may be at it now; this attempt stopped');
      expect((failure as Error).cause).toBeInstanceOf(LockLostError);
      expect(after).not.toHaveBeenCalled();
      expect(undo).not.toHaveBeenCalled();
    });

    it('fails the attempt even when its work got to the end: it may not have been alone', async () => {
      const attempt = new AttemptSignal(undefined);
      const run = runJob({
        job: fakeJob('create', {}),
        token: 't',
        usernames: ['jean'],
        locks: losing,
        log,
        attempt,
        work: () => new Promise((resolve) => attempt.signal.addEventListener('abort', () => resolve('done anyway'))),
      });
      await expect(run).rejects.toThrow(/^USER_BUSY: lost the lock on trainee "jean"/);
    });

    it('takes BullMQ\'s abort of the job (its lock lost) the same way', async () => {
      const bullmq = new AbortController();
      const listeners = new Map<string, (ids: string[]) => void>();
      const on = (event: string, listener: (ids: string[]) => void) => listeners.set(event, listener);
      stopOnLostJobLocks({ on: on as never, cancelJob: (id) => (id === 'create-x' && bullmq.abort('job lock lost'), true) });
      const attempt = new AttemptSignal(bullmq.signal);
      const undo = vi.fn(async () => undefined);
      const run = runJob({
        job: fakeJob('create', {}, { attemptsMade: 2, attempts: 3 }),
        token: 't',
        usernames: ['jean'],
        locks: free,
        log,
        attempt,
        work: async () => {
          listeners.get('lockRenewalFailed')?.(['create-x']);
          attempt.signal.throwIfAborted();
        },
        onFinalFailure: undo,
      });
      await expect(run).rejects.toThrow(/^USER_BUSY: lost the job's lock/);
      expect(undo).not.toHaveBeenCalled();
    });
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

  it('runTraineeJob logs the job and trainee, then any extra fields, and keeps the stall limit of its deps', async () => {
    const lines: Record<string, unknown>[] = [];
    const logged = createLogger({ name: 'test', level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) });
    const work = async (l: typeof log) => (l.info('working'), 'done');
    await runTraineeJob({ locks: free, log: logged }, fakeJob('sync-user', {}), 't', undefined, 'j', work, { parentId: 'run-1' });
    expect(Object.keys(lines[0] ?? {}).filter((key) => ['jobId', 'username', 'parentId', 'attempt'].includes(key))).toEqual(['jobId', 'username', 'parentId', 'attempt']);
    await expect(runTraineeJob({ locks: free, log, stallLimit: 3 }, fakeJob('set-expiry', {}, { stalledCounter: 3 }), 't', undefined, 'j', work)).rejects.toThrow(/^STALLED: /);
  });

  it('willRetry counts this attempt', () => {
    const retryable = new UpstreamError('grafana', 'x', 500);
    expect(willRetry(fakeJob('c', {}, { attemptsMade: 1, attempts: 3 }), retryable)).toBe(true);
    expect(willRetry(fakeJob('c', {}, { attemptsMade: 2, attempts: 3 }), retryable)).toBe(false);
    expect(willRetry(fakeJob('c', {}, { attemptsMade: 0, attempts: 3 }), new UsernameConflictError('x'))).toBe(false);
  });
});
