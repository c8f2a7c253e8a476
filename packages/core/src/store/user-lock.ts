import { RedisMutex, type LockLoss, type MutexRedis } from './redis-mutex.js';

/**
 * One operation per trainee at a time: a create and a delete (or a reset) of the same
 * username never run together. The holder is one attempt of a job (runJob: the job id and
 * a token of the attempt's own), never the job id alone: a stalled job run again by another
 * worker waits until the earlier attempt's lock is released or lapses, since that attempt may
 * still be running, cut off from Redis. An attempt that can no longer renew its lock is told
 * (`onLost`) before the lock can lapse, and stops.
 */
export class UserLock {
  private readonly mutex: RedisMutex;

  constructor(
    redis: MutexRedis,
    private readonly prefix: string,
    private readonly ttlMs = 60_000,
  ) {
    this.mutex = new RedisMutex(redis);
  }

  private key(username: string): string {
    return `${this.prefix}:lock:user:${username}`;
  }

  /** True when `holder` took the free lock. */
  acquire(username: string, holder: string): Promise<boolean> {
    return this.mutex.acquire(this.key(username), holder, this.ttlMs);
  }

  extend(username: string, holder: string): Promise<boolean> {
    return this.mutex.renew(this.key(username), holder, this.ttlMs);
  }

  async release(username: string, holder: string): Promise<void> {
    await this.mutex.release(this.key(username), holder);
  }

  /**
   * Runs `work` holding the lock, renewing it every third of its TTL; `onLost` is called once
   * if the lock may no longer be ours while `work` runs (see `RedisMutex.hold`).
   */
  async withLock<T>(username: string, holder: string, work: () => Promise<T>, options: { onLost?: (why: LockLoss) => void } = {}): Promise<T | typeof LOCKED> {
    if (!(await this.acquire(username, holder))) return LOCKED;
    return this.mutex.hold(this.key(username), holder, this.ttlMs, work, { renew: true, ...options });
  }
}

/** Returned by `withLock` when another job holds the user. */
export const LOCKED: unique symbol = Symbol('locked');
