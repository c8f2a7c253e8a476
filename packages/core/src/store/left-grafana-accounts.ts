import type { Redis } from 'ioredis';
import { z } from 'zod';
import type { LeftGrafanaAccount, LeftGrafanaAccountStore } from '../provisioning/steps/grafana-account.js';

/** As long as BullMQ keeps a failed job (`removeOnFail` of `defaultJobOptions`), whose state recorded the same. */
export const LEFT_ACCOUNT_TTL_SECONDS = 30 * 24 * 3600;

/**
 * Read back and trusted (it makes an account ours), so checked as a job's state is
 * (job-state.ts): a record that does not fit, written by hand, is no record at all.
 */
const leftAccount = z.object({
  userId: z.string().regex(/^[A-Za-z0-9-]{1,64}$/),
  grafanaUserId: z.number().int().min(1).optional(),
});

/**
 * The Grafana accounts failed creates left (grafana-account.ts, `LeftGrafanaAccount`), one
 * key per username beside the queues, under their prefix. Kept out of the job: a new POST of
 * the trainee replaces the failed job, and the record must outlive it. Written by the
 * create's undo before it removes anything, cleared once the account is recorded on the user
 * (the next create's `finish`) or removed (a full undo, sync's rollback); the TTL takes what
 * nothing cleared.
 */
export class LeftGrafanaAccounts implements LeftGrafanaAccountStore {
  constructor(
    private readonly redis: Pick<Redis, 'get' | 'set' | 'del'>,
    private readonly prefix: string,
    private readonly ttlSeconds = LEFT_ACCOUNT_TTL_SECONDS,
  ) {}

  private key(username: string): string {
    return `${this.prefix}:grafana-left:${username}`;
  }

  async get(username: string): Promise<LeftGrafanaAccount | undefined> {
    const stored = await this.redis.get(this.key(username));
    if (stored === null) return undefined;
    try {
      const parsed = leftAccount.safeParse(JSON.parse(stored));
      return parsed.success ? parsed.data : undefined;
    } catch {
      return undefined;
    }
  }

  async put(username: string, account: LeftGrafanaAccount): Promise<void> {
    await this.redis.set(this.key(username), JSON.stringify(leftAccount.parse(account)), 'EX', this.ttlSeconds);
  }

  async clear(username: string): Promise<void> {
    await this.redis.del(this.key(username));
  }
}
