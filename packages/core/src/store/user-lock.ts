import { RedisMutex, type MutexRedis } from './redis-mutex.js';

/**
 * One operation per trainee at a time: a create and a delete (or a reset) of the same
 * username never run together. The holder is the job id, so a job that crashed and is
 * run again (stalled-job recovery) gets its own lock back instead of waiting for it.
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

  /** True when `holder` now holds the lock (newly or again). */
  async acquire(username: string, holder: string): Promise<boolean> {
    const key = this.key(username);
    return (await this.mutex.acquire(key, holder, this.ttlMs)) || this.mutex.renew(key, holder, this.ttlMs);
  }

  extend(username: string, holder: string): Promise<boolean> {
    return this.mutex.renew(this.key(username), holder, this.ttlMs);
  }

  async release(username: string, holder: string): Promise<void> {
    await this.mutex.release(this.key(username), holder);
  }

  /** Runs `work` holding the lock, renewing it every third of its TTL. */
  async withLock<T>(username: string, holder: string, work: () => Promise<T>): Promise<T | typeof LOCKED> {
    if (!(await this.acquire(username, holder))) return LOCKED;
    return this.mutex.hold(this.key(username), holder, this.ttlMs, work, { renew: true });
  }
}

/** Returned by `withLock` when another job holds the user. */
export const LOCKED: unique symbol = Symbol('locked');
