import type { Redis } from 'ioredis';
import { QueueUnavailableError } from '../http/http-error.js';

const CONNECTION_ERROR = /Stream isn't writeable|Connection is closed|ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|MaxRetriesPerRequest|Redis is not ready/i;

export interface RedisGuardOptions {
  /** An operation still running after this long is given up as "queue unavailable". */
  timeoutMs?: number;
}

/**
 * Runs Redis work so that an unreachable Redis fails fast as `QueueUnavailableError`
 * (→ 503) instead of hanging: refuses at once while the connection is not ready, and
 * bounds each operation with a deadline. Other errors (bugs) pass through unchanged.
 */
export class RedisGuard {
  private readonly timeoutMs: number;

  constructor(
    private readonly redis: Pick<Redis, 'status'>,
    options: RedisGuardOptions = {},
  ) {
    this.timeoutMs = options.timeoutMs ?? 5_000;
  }

  get ready(): boolean {
    return this.redis.status === 'ready';
  }

  async run<T>(work: () => Promise<T>, timeoutMs = this.timeoutMs): Promise<T> {
    if (!this.ready) throw new QueueUnavailableError(new Error(`redis connection is ${this.redis.status}`));
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new QueueUnavailableError(new Error(`redis did not answer within ${timeoutMs} ms`))), timeoutMs);
    });
    try {
      return await Promise.race([work(), deadline]);
    } catch (error) {
      if (error instanceof QueueUnavailableError) throw error;
      if (!this.ready || (error instanceof Error && CONNECTION_ERROR.test(error.message))) throw new QueueUnavailableError(error);
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }
}
