import { describe, expect, it } from 'vitest';
import { ProvisionerError, UpstreamError } from '../errors.js';
import { LockLostError, ROLLBACK_TRIES, StalledTooOftenError, retryFollows, runAttempt } from './attempt.js';

const silent = { info: () => undefined, warn: () => undefined, error: () => undefined };
const permanent = () => new ProvisionerError('USERNAME_CONFLICT', 'taken');
const transient = () => new UpstreamError('keycloak', 'create user', 503);

describe('retryFollows', () => {
  it('retries a retryable failure while attempts are left, never a permanent one', () => {
    expect(retryFollows({ made: 0, allowed: 3 }, transient())).toBe(true);
    expect(retryFollows({ made: 2, allowed: 3 }, transient())).toBe(false);
    expect(retryFollows({ made: 0, allowed: 3 }, permanent())).toBe(false);
  });
});

describe('runAttempt', () => {
  it('returns the work\'s result and undoes nothing', async () => {
    let undone = 0;
    const result = await runAttempt({ count: { made: 0, allowed: 3, stalled: 0 }, log: silent, work: async () => 'ok', onFinalFailure: async () => void undone++ });
    expect(result).toBe('ok');
    expect(undone).toBe(0);
  });

  it('a failure another attempt will follow is rethrown without undoing', async () => {
    let undone = 0;
    const attempt = runAttempt({ count: { made: 0, allowed: 3, stalled: 0 }, log: silent, work: () => Promise.reject(transient()), onFinalFailure: async () => void undone++ });
    await expect(attempt).rejects.toBeInstanceOf(UpstreamError);
    expect(undone).toBe(0);
  });

  it('a final failure undoes the operation before it is rethrown', async () => {
    const order: string[] = [];
    const attempt = runAttempt({
      count: { made: 0, allowed: 3, stalled: 0 },
      log: silent,
      work: async () => {
        order.push('work');
        throw permanent();
      },
      onFinalFailure: async () => void order.push('undo'),
    });
    await expect(attempt).rejects.toMatchObject({ code: 'USERNAME_CONFLICT' });
    expect(order).toEqual(['work', 'undo']);
  });

  it('tries a failing undo ROLLBACK_TRIES times, then fails with the work\'s own error', async () => {
    let tries = 0;
    const attempt = runAttempt({
      count: { made: 0, allowed: 1, stalled: 0 },
      log: silent,
      work: () => Promise.reject(permanent()),
      onFinalFailure: async () => {
        tries += 1;
        throw transient();
      },
      rollbackBaseDelayMs: 1,
    });
    await expect(attempt).rejects.toMatchObject({ code: 'USERNAME_CONFLICT' });
    expect(tries).toBe(ROLLBACK_TRIES);
  });

  it('a job interrupted stallLimit times does not run its work: it fails STALLED, undone', async () => {
    let ran = false;
    let undone = false;
    const attempt = runAttempt({
      count: { made: 0, allowed: 5, stalled: 3 },
      stallLimit: 3,
      log: silent,
      work: async () => {
        ran = true;
      },
      onFinalFailure: async () => {
        undone = true;
      },
    });
    await expect(attempt).rejects.toBeInstanceOf(StalledTooOftenError);
    expect(ran).toBe(false);
    expect(undone).toBe(true);
  });

  it('an attempt that lost its lock is retryable and never undone, even as the last one', async () => {
    let undone = 0;
    const lost = new LockLostError('the lock on trainee "jean"');
    expect(retryFollows({ made: 0, allowed: 3 }, lost)).toBe(true);
    const attempt = runAttempt({ count: { made: 2, allowed: 3, stalled: 0 }, log: silent, work: () => Promise.reject(lost), onFinalFailure: async () => void undone++ });
    await expect(attempt).rejects.toMatchObject({ code: 'USER_BUSY', retryable: true });
    expect(undone).toBe(0);
  });
});
