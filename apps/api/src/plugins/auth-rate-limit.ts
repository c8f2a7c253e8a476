import { isIPv4, isIPv6 } from 'node:net';
import type { Redis } from 'ioredis';
import type { ErrorBody } from '../http/schemas.js';

export interface AuthRateLimitOptions {
  /** Failed authentications a client may have within the window; the next ones get 429. */
  maxFailures?: number;
  timeWindowMs?: number;
  /** Redis keys start with this (QUEUE_PREFIX), so replicas sharing Redis share the counts. */
  prefix: string;
}

export const TOO_MANY: ErrorBody = { message: 'Too many failed authentications; retry later', code: 'AUTH_RATE_LIMITED' };

/** The verdict on one failed authentication, counted before it is answered. */
export interface FailureVerdict {
  limited: boolean;
  /** Seconds until the client's window ends (for `retry-after`). */
  retryAfterSeconds: number;
}

/**
 * Who a failure is counted against: an IPv4 address as is, an IPv4-mapped IPv6 address as
 * the IPv4 address, any other IPv6 address by its /64 (one host or LAN usually owns a whole
 * /64, so rotating inside it must not reset the count). Anything else is kept whole.
 */
export function clientKey(address: string): string {
  const plain = address.replace(/%.*$/, ''); // zone id (fe80::1%eth0)
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(plain);
  if (mapped?.[1] && isIPv4(mapped[1])) return mapped[1];
  if (isIPv4(plain)) return plain;
  if (!isIPv6(plain)) return plain;
  return `${expandIPv6(plain).slice(0, 4).join(':')}::/64`;
}

/** The eight hextets of an IPv6 address (lowercase, no leading zeros), `::` and a dotted tail expanded. */
function expandIPv6(address: string): string[] {
  let text = address.toLowerCase();
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (dotted) {
    const [a, b, c, d] = dotted.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const zeros = tail === undefined ? [] : Array<string>(8 - left.length - right.length).fill('0');
  return [...left, ...zeros, ...right].map((part) => parseInt(part, 16).toString(16));
}

const REDIS_DEADLINE_MS = 500;

// INCR and the window's expiry in one step, so concurrent failures (even on several
// replicas) are each counted before any is answered, and the window starts at the first.
const COUNT = `
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]); ttl = tonumber(ARGV[1]) end
return {n, ttl}`;

/**
 * Counts failed authentications per client, in Redis (`<prefix>:auth-fail:<client>`), so
 * every replica sees the same count. Only failures are counted and only failures are
 * refused: a request with a valid token never reaches this, so a flood of bad tokens
 * behind a shared ingress address cannot lock anyone out. When Redis cannot be reached
 * the count falls back to this process's memory (per replica), and valid tokens are still
 * served (fail-open for them, closed-ish for guessing).
 */
export class FailedAuthLimiter {
  readonly #max: number;
  readonly #windowMs: number;
  readonly #prefix: string;
  readonly #local = new Map<string, { count: number; resetAt: number }>();

  constructor(
    private readonly redis: Pick<Redis, 'status' | 'eval'>,
    options: AuthRateLimitOptions,
  ) {
    this.#max = options.maxFailures ?? 20;
    this.#windowMs = options.timeWindowMs ?? 60_000;
    this.#prefix = options.prefix;
  }

  /** Counts one failure of the client at `address`; `limited` once it is over the limit. */
  async fail(address: string): Promise<FailureVerdict> {
    const client = clientKey(address);
    const [count, ttlMs] = await this.#count(client);
    return { limited: count > this.#max, retryAfterSeconds: Math.max(1, Math.ceil(ttlMs / 1000)) };
  }

  async #count(client: string): Promise<[number, number]> {
    if (this.redis.status === 'ready') {
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error('redis too slow')), REDIS_DEADLINE_MS)));
      try {
        const counted = this.redis.eval(COUNT, 1, `${this.#prefix}:auth-fail:${client}`, this.#windowMs) as Promise<[number, number]>;
        return await Promise.race([counted, deadline]);
      } catch {
        // Redis went away or hangs: count here instead (below), never make the caller wait.
      } finally {
        clearTimeout(timer);
      }
    }
    return this.#countLocally(client);
  }

  #countLocally(client: string): [number, number] {
    const now = Date.now();
    if (this.#local.size > 10_000) for (const [key, entry] of this.#local) if (entry.resetAt <= now) this.#local.delete(key);
    const entry = this.#local.get(client);
    if (!entry || entry.resetAt <= now) {
      this.#local.set(client, { count: 1, resetAt: now + this.#windowMs });
      return [1, this.#windowMs];
    }
    entry.count += 1;
    return [entry.count, entry.resetAt - now];
  }
}
