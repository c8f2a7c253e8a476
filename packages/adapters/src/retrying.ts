import { isRetryable } from '@kup/core';
import { delay } from './signals.js';

export interface RetryPolicy {
  /** Tries in all, the first included. */
  tries: number;
  /** Delay before the second try; doubled each time, with up to 50 % jitter. */
  baseDelayMs: number;
}

export const DEFAULT_CALL_RETRY: RetryPolicy = { tries: 3, baseDelayMs: 200 };

/**
 * Wraps a port so that its idempotent methods retry a transient failure (network error,
 * 5xx, 429, timeout) a few times, quickly, before the failure costs the whole job an
 * attempt: a create makes some twenty upstream calls, and without this one dropped
 * connection would start it all over. Methods not named in `idempotent` (creates, whose
 * repeat after a lost answer would meet a conflict) run once: the job's own retry, which
 * inspects before it creates, handles them. The last argument of every port method is
 * its optional `AbortSignal`, and the waits honour it.
 */
export function withCallRetries<T extends object>(port: T, idempotent: ReadonlyArray<keyof T>, policy: RetryPolicy = DEFAULT_CALL_RETRY): T {
  const retried = new Set<PropertyKey>(idempotent);
  return new Proxy(port, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver) as unknown;
      if (typeof value !== 'function' || !retried.has(property)) return typeof value === 'function' ? value.bind(target) : value;
      return async (...args: unknown[]) => {
        const signal = args.find((arg): arg is AbortSignal => arg instanceof AbortSignal);
        for (let attempt = 1; ; attempt++) {
          try {
            return await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
          } catch (error) {
            if (attempt >= policy.tries || !isRetryable(error) || signal?.aborted) throw error;
            const wait = policy.baseDelayMs * 2 ** (attempt - 1);
            await delay(wait + Math.random() * wait * 0.5, signal);
          }
        }
      };
    },
  });
}
