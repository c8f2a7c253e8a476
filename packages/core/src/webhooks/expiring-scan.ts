import type { Redis } from 'ioredis';
import type { IdentityProvider } from '../ports/identity-provider.js';
import type { WebhookEmitter } from './emitter.js';

export interface ExpiringScanDeps {
  identity: Pick<IdentityProvider, 'listManaged'>;
  redis: Pick<Redis, 'exists' | 'set'>;
  emitter: Pick<WebhookEmitter, 'traineeExpiring'>;
  /** QUEUE_PREFIX: the de-duplication keys live beside the queues. */
  prefix: string;
  /** WEBHOOK_EXPIRING_AHEAD. */
  aheadSeconds: number;
  pageSize?: number;
  signal?: AbortSignal;
}

/** The key saying a trainee was told about this expiry value. */
export const expiringNoticeKey = (prefix: string, username: string, expiresAt: string) => `${prefix}:webhook:expiring:${username}:${Date.parse(expiresAt)}`;

/**
 * Pages through the managed, provisioned trainees and sends `trainee.expiring` for each
 * whose `expiresAt` falls within the next `aheadSeconds` and who was not told about that
 * very expiry before (a Redis key per trainee and expiry value, kept until a day after the
 * expiry). The event goes out before the key is written: a crash in between re-sends with
 * the same event id, which the delivery job's fixed id absorbs. A changed expiry is a new
 * value, so it is announced again.
 */
export async function scanExpiring(deps: ExpiringScanDeps, now = Date.now()): Promise<{ scanned: number; notified: number }> {
  const pageSize = deps.pageSize ?? 100;
  const until = now + deps.aheadSeconds * 1000;
  let scanned = 0;
  let notified = 0;
  for (let first: number | undefined = 0; first !== undefined; ) {
    const page = await deps.identity.listManaged(first, pageSize, deps.signal);
    for (const user of page.users) {
      scanned++;
      if (!user.provisioned || !user.expiresAt) continue;
      const expires = Date.parse(user.expiresAt);
      if (!(expires > now && expires <= until)) continue;
      const key = expiringNoticeKey(deps.prefix, user.username, user.expiresAt);
      if ((await deps.redis.exists(key)) === 1) continue;
      await deps.emitter.traineeExpiring({ username: user.username, email: user.email, expiresAt: user.expiresAt });
      const ttlSeconds = Math.ceil((expires - now) / 1000) + 86_400;
      await deps.redis.set(key, '1', 'EX', ttlSeconds);
      notified++;
    }
    first = page.next;
  }
  return { scanned, notified };
}
