import type { Redis } from 'ioredis';

const RELEASE = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;
const EXTEND = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end`;

/**
 * One operation per trainee at a time: a create and a delete (or a reset) of the same
 * username never run together. The holder is the job id, so a job that crashed and is
 * run again (stalled-job recovery) gets its own lock back instead of waiting for it.
 */
export class UserLock {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly ttlMs = 60_000,
  ) {}

  private key(username: string): string {
    return `${this.prefix}:lock:user:${username}`;
  }

  /** True when `holder` now holds the lock (newly or again). */
  async acquire(username: string, holder: string): Promise<boolean> {
    const key = this.key(username);
    if ((await this.redis.set(key, holder, 'PX', this.ttlMs, 'NX')) === 'OK') return true;
    return (await this.redis.eval(EXTEND, 1, key, holder, String(this.ttlMs))) === 1;
  }

  async extend(username: string, holder: string): Promise<boolean> {
    return (await this.redis.eval(EXTEND, 1, this.key(username), holder, String(this.ttlMs))) === 1;
  }

  async release(username: string, holder: string): Promise<void> {
    await this.redis.eval(RELEASE, 1, this.key(username), holder);
  }

  /** Runs `work` holding the lock, renewing it every third of its TTL. */
  async withLock<T>(username: string, holder: string, work: () => Promise<T>): Promise<T | typeof LOCKED> {
    if (!(await this.acquire(username, holder))) return LOCKED;
    const timer = setInterval(() => void this.extend(username, holder).catch(() => undefined), this.ttlMs / 3);
    try {
      return await work();
    } finally {
      clearInterval(timer);
      await this.release(username, holder);
    }
  }
}

/** Returned by `withLock` when another job holds the user. */
export const LOCKED: unique symbol = Symbol('locked');
