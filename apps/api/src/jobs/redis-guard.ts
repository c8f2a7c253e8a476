import type { Redis } from 'ioredis';
import { QueueUnavailableError } from '../http/http-error.js';

const CONNECTION_ERROR = /Stream isn't writeable|Connection is closed|ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|MaxRetriesPerRequest|Redis is not ready/i;

export interface RedisGuardOptions {
  /** An operation still running after this long is given up as "queue unavailable". */
  timeoutMs?: number;
}

/** An operation in flight: when it is given up, and how. */
interface Running {
  deadline: number;
  timeoutMs: number;
  giveUp: (error: QueueUnavailableError) => void;
}

/**
 * Runs Redis work so that an unreachable Redis fails fast as `QueueUnavailableError`
 * (→ 503) instead of hanging: refuses at once while the connection is not ready, and
 * bounds each operation with a deadline. Other errors (bugs) pass through unchanged.
 *
 * The deadlines share one timer, set for the earliest of them, rather than a timer and a
 * `Promise.race` per operation: nearly every operation ends within milliseconds, and under
 * load the API ran one per request (docs/benchmarks.md, P1).
 */
export class RedisGuard {
  private readonly timeoutMs: number;
  private readonly running = new Set<Running>();
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Number.POSITIVE_INFINITY;

  constructor(
    private readonly redis: Pick<Redis, 'status'>,
    options: RedisGuardOptions = {},
  ) {
    this.timeoutMs = options.timeoutMs ?? 5_000;
  }

  get ready(): boolean {
    return this.redis.status === 'ready';
  }

  run<T>(work: () => Promise<T>, timeoutMs = this.timeoutMs): Promise<T> {
    if (!this.ready) return Promise.reject(new QueueUnavailableError(new Error(`redis connection is ${this.redis.status}`)));
    return new Promise<T>((resolve, reject) => {
      const entry: Running = { deadline: Date.now() + timeoutMs, timeoutMs, giveUp: reject };
      this.running.add(entry);
      this.wakeBy(entry.deadline);
      let operation: Promise<T>;
      try {
        operation = work();
      } catch (error) {
        operation = Promise.reject(error);
      }
      operation.then(
        (value) => {
          this.running.delete(entry);
          resolve(value);
        },
        (error: unknown) => {
          this.running.delete(entry);
          reject(this.classify(error));
        },
      );
    });
  }

  private classify(error: unknown): unknown {
    if (error instanceof QueueUnavailableError) return error;
    if (!this.ready || (error instanceof Error && CONNECTION_ERROR.test(error.message))) return new QueueUnavailableError(error);
    return error;
  }

  /** Makes sure the timer fires by `deadline`. */
  private wakeBy(deadline: number): void {
    if (this.timer !== undefined && this.timerAt <= deadline) return;
    clearTimeout(this.timer);
    this.timerAt = deadline;
    this.timer = setTimeout(() => this.expire(), Math.max(0, deadline - Date.now()));
    // The deadlines of operations in flight keep no process alive on their own.
    this.timer.unref();
  }

  /** Gives up every operation past its deadline, and sets the timer for the next one. */
  private expire(): void {
    this.timer = undefined;
    this.timerAt = Number.POSITIVE_INFINITY;
    const now = Date.now();
    let next = Number.POSITIVE_INFINITY;
    for (const entry of this.running) {
      if (entry.deadline <= now) {
        this.running.delete(entry);
        entry.giveUp(new QueueUnavailableError(new Error(`redis did not answer within ${entry.timeoutMs} ms`)));
      } else if (entry.deadline < next) next = entry.deadline;
    }
    if (next !== Number.POSITIVE_INFINITY) this.wakeBy(next);
  }
}
