import type { Job, Queue } from 'bullmq';
import { createJobResult, type CreateJobResult, JOBS, jobProgress, type JobProgress, QUEUES, readJobFailure, resetPasswordJobResult, secretKeyOf, syncUserResult, type QueueName } from '@kup/core';
import type { Logger } from '@kup/core';
import { JOB_STATES, type JobStateName, type JobView } from './job-view.js';
import type { RedisGuard } from './redis-guard.js';

export interface JobReaderDeps {
  queues: Readonly<Record<QueueName, Pick<Queue, 'getJob' | 'getJobState'>>>;
  secrets: { get(jobKey: string): Promise<string | undefined> };
  guard: RedisGuard;
  logger: Pick<Logger, 'warn'>;
  /** The welcome a create asked for (`welcome: true`), from its result and data; never a secret. */
  welcome?: (result: CreateJobResult, data: { email?: string; expiresAt?: string }) => object;
}

const iso = (ms: number | undefined): string | null => (ms ? new Date(ms).toISOString() : null);

/** Finds jobs on any queue and turns them into the API's view of a job. */
export class JobReader {
  constructor(private readonly deps: JobReaderDeps) {}

  /** Looks the id up on every queue; undefined when no queue has it. */
  async find(id: string): Promise<JobView | undefined> {
    return this.deps.guard.run(async () => {
      for (const queue of Object.values(QUEUES)) {
        const view = await this.describe(queue, id);
        if (view) return view;
      }
      return undefined;
    });
  }

  /** Whether the job has ended (completed or failed), or is gone. */
  async isFinished(queue: QueueName, id: string): Promise<boolean> {
    const state = await this.deps.guard.run(() => this.deps.queues[queue].getJobState(id));
    return state === 'completed' || state === 'failed' || state === 'unknown';
  }

  /** The current view of a job, reloaded from Redis; undefined once it was removed. */
  async view(queue: QueueName, id: string): Promise<JobView | undefined> {
    return this.deps.guard.run(() => this.describe(queue, id));
  }

  /**
   * The state is read before the job's hash: a job read first and finishing in between
   * would show `failed` without its reason (or `completed` without its result). A job is
   * always in one of the state sets, so `unknown` is no job: never read that key as one, as
   * it may be one of the queue's own (`meta`, `events`, `wait`: a RangeError or WRONGTYPE).
   */
  private async describe(queue: QueueName, id: string): Promise<JobView | undefined> {
    const raw = await this.deps.queues[queue].getJobState(id);
    if (raw === 'unknown') return undefined;
    const job = await this.deps.queues[queue].getJob(id);
    if (!job) return undefined;
    const state: JobStateName = (JOB_STATES as readonly string[]).includes(raw) ? (raw as JobStateName) : 'unknown';
    const progress = jobProgress.safeParse(job.progress);
    const view: JobView = {
      id: job.id ?? '',
      type: job.name,
      queue,
      state,
      progress: progress.success ? finishedProgress(state, progress.data) : { step: state, done: 0, total: 0 },
      attemptsMade: job.attemptsMade,
      createdAt: new Date(job.timestamp).toISOString(),
      finishedAt: iso(job.finishedOn),
    };
    if (state === 'completed' && job.returnvalue != null) view.result = await this.resultOf(job);
    if (state === 'failed') view.error = readJobFailure(job);
    return view;
  }

  private welcomeOf(job: Job, result: CreateJobResult): { welcome?: object } {
    const data = (job.data ?? {}) as { welcome?: unknown; email?: string; expiresAt?: string; state?: { expiresAt?: string } };
    if (data.welcome !== true || !this.deps.welcome) return {};
    // The expiry the create wrote (its default included), kept in the job's state.
    return { welcome: this.deps.welcome(result, { ...(data.email ? { email: data.email } : {}), ...(data.state?.expiresAt ?? data.expiresAt ? { expiresAt: data.state?.expiresAt ?? data.expiresAt } : {}) }) };
  }

  private async resultOf(job: Job): Promise<JobView['result']> {
    const result: unknown = job.returnvalue;
    if (typeof result !== 'object' || result === null || Array.isArray(result)) return { value: result };
    // Creates, password resets, and syncs that had to set a new password, hold one sealed under the job's key.
    const creates = job.name === JOBS.create || job.name === JOBS.cohortMemberCreate;
    const schema = creates ? createJobResult : job.name === JOBS.syncUser ? syncUserResult : job.name === JOBS.resetPassword ? resetPasswordJobResult : undefined;
    if (!schema) return result as JobView['result'];
    const parsed = schema.safeParse(result);
    const extra = parsed.success && creates ? this.welcomeOf(job, parsed.data as CreateJobResult) : {};
    if (!parsed.success || !parsed.data.passwordIssued) return { ...(result as object), ...extra } as JobView['result'];
    try {
      const password = await this.deps.secrets.get(secretKeyOf(job));
      return { ...parsed.data, ...extra, ...(password === undefined ? {} : { password }) } as JobView['result'];
    } catch (error) {
      // Sealed with another key (rotated) or altered: say so in the log, never the value.
      this.deps.logger.warn({ jobId: job.id, err: error instanceof Error ? error.message : String(error) }, 'sealed password could not be opened');
      return { ...parsed.data, ...extra } as JobView['result'];
    }
  }
}

/**
 * A job reports each step as it starts, so a completed one last said "finish 8/9": shown as
 * all done once it has completed (a create that found the trainee already made stops early).
 */
function finishedProgress(state: JobStateName, progress: JobProgress): JobProgress {
  return state === 'completed' ? { ...progress, done: progress.total } : progress;
}
