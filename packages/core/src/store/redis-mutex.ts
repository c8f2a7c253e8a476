import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';

// Release and renew must check the token and act in one step, or a holder whose lock has
// expired (and been taken by another) would delete or extend the new holder's lock.
const RELEASE = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;
const RENEW = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end`;

export type MutexRedis = Pick<Redis, 'set' | 'eval'>;

/** A fresh holder token, for a lock that has no natural holder id (a job id, say). */
export const newLockToken = (): string => randomUUID();

/**
 * The project's one Redis mutex: a key set with SET NX PX to the holder's token, so a
 * crashed holder frees it after its TTL; released or renewed only by the holder whose
 * token it still holds. Used for the per-user job lock, the enqueue-and-replace lock and
 * the schedules lock.
 */
export class RedisMutex {
  constructor(private readonly redis: MutexRedis) {}

  /** True when `token` took the free lock. */
  async acquire(key: string, token: string, ttlMs: number): Promise<boolean> {
    return (await this.redis.set(key, token, 'PX', ttlMs, 'NX')) === 'OK';
  }

  /** Resets the TTL; false when `token` no longer holds the lock. */
  async renew(key: string, token: string, ttlMs: number): Promise<boolean> {
    return (await this.redis.eval(RENEW, 1, key, token, String(ttlMs))) === 1;
  }

  /** Frees the lock if `token` still holds it; true when it did. */
  async release(key: string, token: string): Promise<boolean> {
    return (await this.redis.eval(RELEASE, 1, key, token)) === 1;
  }

  /** Tries to take the lock until `waitMs` has passed (polling with jitter); false then. */
  async acquireWithin(key: string, token: string, ttlMs: number, waitMs: number): Promise<boolean> {
    const giveUpAt = Date.now() + waitMs;
    while (!(await this.acquire(key, token, ttlMs))) {
      if (Date.now() >= giveUpAt) return false;
      await sleep(25 + Math.random() * 50);
    }
    return true;
  }

  /**
   * Runs `work` holding a lock already taken by `token`, then releases it. With `renew`,
   * the lock is renewed every third of its TTL so work that outlives the TTL keeps it, and
   * `onLost` is called once (renewal then stops) when the lock may no longer be ours: a
   * renewal found it gone or another's (`'not-ours'`), or none was confirmed for five sixths
   * of the TTL, so it could lapse before the next one (`'unconfirmed'`: Redis unreachable or
   * too slow). Stopping the work is the caller's part (runJob aborts the attempt).
   */
  async hold<T>(key: string, token: string, ttlMs: number, work: () => Promise<T>, options: { renew?: boolean; onLost?: (why: LockLoss) => void } = {}): Promise<T> {
    const renewal = options.renew ? this.keepRenewed(key, token, ttlMs, options.onLost) : undefined;
    try {
      return await work();
    } finally {
      renewal?.stop();
      await this.release(key, token);
    }
  }

  private keepRenewed(key: string, token: string, ttlMs: number, onLost: (why: LockLoss) => void = () => undefined): { stop: () => void } {
    let stopped = false;
    let confirmedAt = 0;
    let deadline: NodeJS.Timeout | undefined;
    const stop = () => {
      stopped = true;
      clearInterval(timer);
      clearTimeout(deadline);
    };
    const lose = (why: LockLoss) => {
      if (stopped) return;
      stop();
      onLost(why);
    };
    // Counted from when the renewal was sent: Redis cannot have set the TTL earlier than that.
    const confirmed = (sentAt: number) => {
      if (stopped || sentAt <= confirmedAt) return;
      confirmedAt = sentAt;
      clearTimeout(deadline);
      deadline = setTimeout(() => lose('unconfirmed'), Math.max(0, sentAt + (ttlMs * 5) / 6 - Date.now()));
    };
    const timer = setInterval(() => {
      const sentAt = Date.now();
      // A failed call proves nothing either way: the deadline decides.
      this.renew(key, token, ttlMs).then((ours) => (ours ? confirmed(sentAt) : lose('not-ours')), () => undefined);
    }, ttlMs / 3);
    // The caller took the lock just before.
    confirmed(Date.now());
    return { stop };
  }
}

/** Why a held lock was given up: a renewal found it gone or another's, or none could be confirmed in time. */
export type LockLoss = 'not-ours' | 'unconfirmed';
