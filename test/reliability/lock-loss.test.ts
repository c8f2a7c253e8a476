// An attempt that loses a lock it works under stops, against the stack's real Redis (and
// real BullMQ for the job's own lock): another holder takes its trainee's lock, its
// renewals stop answering, or BullMQ cannot renew the job's lock. Each time the attempt's
// signal (its steps' `ctx.signal`) is aborted, the step after never runs, nothing more is
// written to the job's state, the failure is a retryable USER_BUSY, and nothing is undone,
// even on the last attempt. Locks are short-lived here; waits poll with deadlines.
import { DelayedError, Queue, UnrecoverableError, Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { LockLostError, UserLock, createLogger, markOwned, runSteps, type MutexRedis, type Owned, type SecretStore, type Step } from '@kup/core';
import { stepContext } from '../../apps/worker/src/processors/job-context.js';
import { AttemptSignal, runJob, stopOnLostJobLocks } from '../../apps/worker/src/processors/run-job.js';
import { fakeJob } from '../../apps/worker/src/processors/test-job.js';
import { dropPrefix, env, eventually, hex, uniquePrefix } from './harness.js';

const REDIS_URL = env('REDIS_URL');
const prefix = uniquePrefix('lock');
const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
const secrets = {} as SecretStore;

afterAll(async () => {
  await dropPrefix(REDIS_URL, prefix);
  await redis.quit();
});

type State = { owned?: Owned<'user' | 'namespace'> };

/** Warn lines (and worse) of the attempt's log, as JSON. */
function capturedLog() {
  const lines: Array<{ level: number; msg: string; reason?: string }> = [];
  const log = createLogger({ name: 'test', level: 'warn' }, { write: (line: string) => void lines.push(JSON.parse(line)) });
  return { log, lines };
}

/**
 * An attempt of `job` as a processor makes it, whose steps are `first` (marks something owned,
 * then `whileHeld`, then waits, polling, until its signal is aborted) and `second` (marks more).
 */
function attemptOf<J extends Job>(job: J, whileHeld: () => Promise<void>, bullmqSignal?: AbortSignal) {
  const { log, lines } = capturedLog();
  const attempt = new AttemptSignal(bullmqSignal);
  const ctx = stepContext<State>(job, secrets, log, attempt.signal);
  const ran: string[] = [];
  const steps: Step<object>[] = [
    {
      name: 'first',
      ensure: async () => {
        ran.push('first');
        await markOwned(ctx.state, 'user');
        await whileHeld();
        await eventually('the attempt is stopped', async () => (ctx.signal?.aborted ? true : undefined), 10_000, 10);
      },
    },
    {
      name: 'second',
      ensure: async () => {
        ran.push('second');
        await markOwned(ctx.state, 'namespace');
      },
    },
  ];
  const undo = vi.fn(async () => undefined);
  return { job, log, lines, attempt, ctx, ran, undo, work: () => runSteps(steps, {}, ctx.progress) };
}

/** On its last attempt, so a failure other than a lost lock would be undone. */
const lastAttempt = (username: string) => fakeJob('create', { username }, { attemptsMade: 2, attempts: 3 });

function expectStoppedAsLockLost(failure: unknown, run: ReturnType<typeof attemptOf<ReturnType<typeof lastAttempt>>>, reason: RegExp) {
  // Retryable (not BullMQ's UnrecoverableError), coded USER_BUSY, the lost lock as its cause.
  expect(failure).toBeInstanceOf(Error);
  expect(failure).not.toBeInstanceOf(UnrecoverableError);
  expect((failure as Error).message).toMatch(/^USER_BUSY: lost /);
  expect((failure as Error).cause).toBeInstanceOf(LockLostError);
  expect((failure as Error).message).toMatch(reason);
  expect(run.ran).toEqual(['first']);
  expect(run.undo).not.toHaveBeenCalled();
  // The mark made while the lock was held, and nothing written after.
  expect(run.job.data.state).toEqual({ owned: { user: true } });
  const warnings = run.lines.filter((line) => line.msg === 'lock lost: stopping this attempt');
  expect(warnings).toHaveLength(1);
  expect(warnings[0]?.level).toBe(40);
  expect(warnings[0]?.reason).toMatch(reason);
}

describe('an attempt that loses its lock (real Redis)', () => {
  it('stops at its next step when another holder takes its trainee lock, and leaves that holder the lock', async () => {
    const username = `rl${hex(3)}-taken`;
    const key = `${prefix}:lock:user:${username}`;
    const locks = new UserLock(redis, prefix, 600);
    // Another job takes the trainee, as one could once this attempt's lock had lapsed.
    const run = attemptOf(lastAttempt(username), async () => void (await redis.set(key, 'delete-other:token', 'PX', 10_000)));

    const failure = await runJob({ job: run.job, token: 't', usernames: [username], locks, log: run.log, attempt: run.attempt, work: run.work, onFinalFailure: run.undo }).catch((error: unknown) => error);

    expectStoppedAsLockLost(failure, run, /lost the lock on trainee "rl\w+-taken" \(taken or expired\)/);
    expect(await redis.get(key)).toBe('delete-other:token');
  });

  it('stops before its trainee lock can lapse when no renewal answers', async () => {
    const username = `rl${hex(3)}-silent`;
    const key = `${prefix}:lock:user:${username}`;
    // Long enough that a busy machine's timer delays stay inside the sixth of it the stop leaves.
    const ttlMs = 3_000;
    // Redis as a worker cut off from it sees it: taking the lock works, renewals never answer.
    const silent = {
      set: redis.set.bind(redis),
      eval: (script: string, ...args: Array<string | number>) => (script.includes('pexpire') ? new Promise(() => undefined) : redis.eval(script, Number(args[0]), ...args.slice(1))),
    } as unknown as MutexRedis;
    const locks = new UserLock(silent, prefix, ttlMs);
    const run = attemptOf(lastAttempt(username), async () => undefined);
    // What Redis itself says of the lock as the attempt stops: this command is queued on the
    // connection before the release the stop leads to.
    let ttlLeftAtAbort: Promise<number> | undefined;
    run.attempt.signal.addEventListener('abort', () => {
      ttlLeftAtAbort = redis.pttl(key);
    });

    const failure = await runJob({ job: run.job, token: 't', usernames: [username], locks, log: run.log, attempt: run.attempt, work: run.work, onFinalFailure: run.undo }).catch((error: unknown) => error);

    expectStoppedAsLockLost(failure, run, /lost the lock on trainee "rl\w+-silent" \(not renewed in time\)/);
    // The attempt stopped while the lock was still its own, by Redis's clock, not ours.
    expect(ttlLeftAtAbort).toBeDefined();
    expect(await ttlLeftAtAbort).toBeGreaterThan(0);
    // Stopping released it (no other holder had it).
    expect(await redis.exists(key)).toBe(0);
  });

  it('keeps a re-run of the same job out while an earlier attempt holds the trainee', async () => {
    const username = `rl${hex(3)}-rerun`;
    const key = `${prefix}:lock:user:${username}`;
    const locks = new UserLock(redis, prefix, 10_000);
    const { log } = capturedLog();
    let finish: () => void = () => undefined;
    const first = runJob({ job: fakeJob('create', { username }), token: 'a', usernames: [username], locks, log, work: () => new Promise<void>((resolve) => (finish = resolve)) });
    await eventually('the first attempt holds the trainee', async () => ((await redis.get(key))?.startsWith('create-x:') ? true : undefined), 5_000, 10);

    // Same job id (stalled, run again by another worker): delayed, its work never started.
    const again = fakeJob('create', { username });
    const work = vi.fn(async () => undefined);
    await expect(runJob({ job: again, token: 'b', usernames: [username], locks, log, work })).rejects.toBeInstanceOf(DelayedError);
    expect(again.delayedUntil).toBeDefined();
    expect(work).not.toHaveBeenCalled();

    finish();
    await first;
    expect(await redis.exists(key)).toBe(0);
  });

  it('stops when BullMQ cannot renew the job lock (the job may be running elsewhere)', async () => {
    const username = `rl${hex(3)}-job`;
    const name = `lock-${hex(3)}`;
    const queue = new Queue(name, { connection: { url: REDIS_URL }, prefix });
    const locks = new UserLock(redis, prefix, 10_000);
    const outcomes: unknown[] = [];
    let run: ReturnType<typeof attemptOf<Job>> | undefined;
    const worker = new Worker(
      name,
      async (job, token, signal) => {
        if (run) return undefined; // a later run (the job found stalled) is not this test's
        // The job's lock gone, as when another worker took the job over as stalled.
        const current = attemptOf(job, () => redis.del(`${prefix}:${name}:${job.id}:lock`).then(() => undefined), signal);
        run = current;
        return runJob({ job, token, usernames: [username], locks, log: current.log, attempt: current.attempt, work: current.work, onFinalFailure: current.undo }).catch((error: unknown) => {
          outcomes.push(error);
          throw error;
        });
      },
      { connection: { url: REDIS_URL }, prefix, lockDuration: 1_000, stalledInterval: 60_000, autorun: false },
    );
    // BullMQ reports the lost lock as an error too; the test reads the processor's outcome.
    worker.on('error', () => undefined);
    stopOnLostJobLocks(worker);
    try {
      void worker.run();
      await queue.add('create', { username }, { jobId: 'create-x', attempts: 3 });
      const failure = await eventually('the attempt ends', async () => outcomes[0], 20_000, 20);
      expect(run).toBeDefined();
      if (!run) return;
      expect(failure).not.toBeInstanceOf(UnrecoverableError);
      expect((failure as Error).message).toMatch(/^USER_BUSY: lost the job's lock/);
      expect(run.ran).toEqual(['first']);
      expect(run.undo).not.toHaveBeenCalled();
      expect(run.lines.filter((line) => line.msg === 'lock lost: stopping this attempt')).toHaveLength(1);
      // The trainee's lock went with the attempt.
      expect(await redis.exists(`${prefix}:lock:user:${username}`)).toBe(0);
    } finally {
      await worker.close(true);
      await queue.close();
    }
  });
});
