import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance } from 'fastify';
import type { ErrorBody } from '../http/schemas.js';

export interface AuthRateLimitOptions {
  /** Failed authentications (401) a client may have within the window before it is refused. */
  maxFailures?: number;
  timeWindowMs?: number;
}

const TOO_MANY: ErrorBody = { message: 'Too many failed authentications; retry later', code: 'AUTH_RATE_LIMITED' };

/**
 * Slows down token guessing: every 401 counts against the client's address, and a client
 * over the limit gets 429 (with `retry-after`) on every route, right or wrong token, until
 * its window ends. Public routes (liveness, readiness) are never refused. Successful requests cost nothing, so heavy legitimate traffic is never
 * limited. Counters live in this process (per replica). Register before `registerAuth`:
 * the check must run before the token check.
 */
export async function registerAuthRateLimit(app: FastifyInstance, options: AuthRateLimitOptions = {}): Promise<void> {
  await app.register(rateLimit, { global: false });
  const limiter = app.createRateLimit({
    max: options.maxFailures ?? 20,
    timeWindow: options.timeWindowMs ?? 60_000,
    keyGenerator: (request) => request.ip,
  });

  app.addHook('onRequest', async (request, reply) => {
    if (request.routeOptions.config.public) return;
    const verdict = await limiter(request, { increment: false });
    if (verdict.isAllowed || verdict.remaining > 0) return;
    return reply.code(429).header('retry-after', String(Math.max(1, verdict.ttlInSeconds))).send(TOO_MANY);
  });

  app.addHook('onResponse', async (request, reply) => {
    if (reply.statusCode === 401) await limiter(request);
  });
}
