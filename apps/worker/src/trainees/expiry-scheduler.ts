import type { JobsOptions, Queue } from 'bullmq';
import { JOBS, expireJobId, type ExpiryScheduler } from '@kup/core';

const PENDING = new Set(['waiting', 'delayed', 'active', 'prioritized', 'waiting-children']);
/** Not yet taken by a worker: such a job can be removed. */
const NOT_STARTED = new Set(['waiting', 'delayed', 'prioritized']);

/**
 * The trainees' `expire` jobs on the provisioning queue, one per trainee (`expire-<username>`).
 * Moving an expiry changes the delay of the job waiting; a job that is already running
 * (or about to) is left alone: it reads Keycloak's expiry when it runs.
 */
export class BullExpiryScheduler implements ExpiryScheduler {
  constructor(
    private readonly queue: Pick<Queue, 'add' | 'getJob' | 'remove'>,
    private readonly jobOptions: JobsOptions,
    private readonly now: () => number = Date.now,
  ) {}

  async schedule(username: string, expiresAt: string): Promise<void> {
    const now = this.now();
    const dueMs = Math.max(now, Date.parse(expiresAt));
    const delay = dueMs - now;
    const existing = await this.queue.getJob(expireJobId(username));
    if (existing) {
      const state = await existing.getState();
      if (state === 'delayed') {
        // A delete a failed attempt began is dropped: it was for the trainee as it was then (a
        // create may have made them again since), and at its new time the job decides afresh.
        const { state: _begun, ...data } = existing.data as Record<string, unknown>;
        await existing.updateData({ ...data, dueAt: dueAtOf(dueMs) });
        return existing.changeDelay(delay);
      }
      if (PENDING.has(state)) return;
      await existing.remove().catch(() => undefined);
    }
    await this.add(username, dueMs, delay);
  }

  /**
   * Makes sure the trainee has an expire job (sync calls it for each trainee). A missing one
   * is added due now: it reads the trainee's expiry and waits until then.
   */
  async ensure(username: string): Promise<boolean> {
    const existing = await this.queue.getJob(expireJobId(username));
    if (existing) {
      if (PENDING.has(await existing.getState())) return false;
      await existing.remove().catch(() => undefined);
    }
    await this.add(username, this.now(), 0);
    return true;
  }

  /**
   * The trainee is gone (deleted, by a cohort delete or by cleanup): their expire job, still
   * waiting, goes too. None is fine. One already running is left: it finds no user and ends;
   * so is a finished one, kept as history.
   */
  async cancel(username: string): Promise<boolean> {
    const existing = await this.queue.getJob(expireJobId(username));
    if (!existing || !NOT_STARTED.has(await existing.getState())) return false;
    // 0 when a worker took it meanwhile: it runs and finds no user.
    return (await this.queue.remove(expireJobId(username))) === 1;
  }

  /** Whether `ensure` would add the job (sync's dry run asks; nothing is written). */
  async isMissing(username: string): Promise<boolean> {
    const existing = await this.queue.getJob(expireJobId(username));
    return !existing || !PENDING.has(await existing.getState());
  }

  private async add(username: string, dueMs: number, delay: number): Promise<void> {
    await this.queue.add(JOBS.expire, { username, dueAt: dueAtOf(dueMs) }, { ...this.jobOptions, jobId: expireJobId(username), delay });
  }
}

const dueAtOf = (ms: number): string => new Date(ms).toISOString();
