import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Job, JobsOptions, Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { secretKeyOf, type QueueName } from '@kup/core/contract';
import { HttpError } from '../http/http-error.js';
import type { RedisGuard } from './redis-guard.js';

const RELEASE = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;
const FINISHED = new Set(['completed', 'failed']);

export interface JobSubmitterDeps {
  queues: Readonly<Record<QueueName, Pick<Queue, 'add' | 'getJob'>>>;
  redis: Pick<Redis, 'set' | 'eval'>;
  guard: RedisGuard;
  secrets: { remove(jobKey: string): Promise<void> };
  jobOptions: JobsOptions;
  /** Key prefix for the short enqueue locks (the queue prefix). */
  prefix: string;
  lockTtlMs?: number;
  lockWaitMs?: number;
}

export interface Submission {
  job: Job;
  /** False when an unfinished job with the same id was found and is answered instead. */
  created: boolean;
}

/**
 * Adds jobs with deterministic ids, deduplicated: an unfinished job with the same id is
 * answered as is; a finished one (and its sealed password) is removed and replaced.
 * Replacing (check-remove-add) runs under a short Redis lock per job id (SET NX PX), so
 * two API replicas answering the same request at once cannot both replace the job; a
 * plain add needs no lock.
 */
export class JobSubmitter {
  private readonly lockTtlMs: number;
  private readonly lockWaitMs: number;

  constructor(private readonly deps: JobSubmitterDeps) {
    this.lockTtlMs = deps.lockTtlMs ?? 5_000;
    this.lockWaitMs = deps.lockWaitMs ?? 3_000;
  }

  submit(queue: QueueName, name: string, jobId: string, data: object): Promise<Submission> {
    return this.deps.guard.run(
      async () => (await this.addOrFindPending(queue, name, jobId, data)) ?? this.withLock(jobId, () => this.replaceUnlessPending(queue, name, jobId, data)),
    );
  }

  /**
   * The common cases without the lock: no job with that id (add it: BullMQ's add is atomic
   * on the id, so a concurrent add of the same id is a no-op), or an unfinished one (answer
   * it). Undefined when a finished job must be replaced, which needs the lock.
   */
  private async addOrFindPending(queueName: QueueName, name: string, jobId: string, data: object): Promise<Submission | undefined> {
    const queue = this.deps.queues[queueName];
    const existing = await queue.getJob(jobId);
    if (!existing) return { job: await queue.add(name, data, { ...this.deps.jobOptions, jobId }), created: true };
    const state = await existing.getState();
    return FINISHED.has(state) || state === 'unknown' ? undefined : { job: existing, created: false };
  }

  private async replaceUnlessPending(queueName: QueueName, name: string, jobId: string, data: object): Promise<Submission> {
    const queue = this.deps.queues[queueName];
    const existing = await queue.getJob(jobId);
    if (existing) {
      const state = await existing.getState();
      if (!FINISHED.has(state) && state !== 'unknown') return { job: existing, created: false };
      await existing.remove();
      await this.deps.secrets.remove(secretKeyOf(existing));
    }
    const job = await queue.add(name, data, { ...this.deps.jobOptions, jobId });
    return { job, created: true };
  }

  private async withLock<T>(jobId: string, work: () => Promise<T>): Promise<T> {
    const key = `${this.deps.prefix}:lock:enqueue:${jobId}`;
    const holder = randomUUID();
    const giveUpAt = Date.now() + this.lockWaitMs;
    while ((await this.deps.redis.set(key, holder, 'PX', this.lockTtlMs, 'NX')) !== 'OK') {
      if (Date.now() >= giveUpAt) throw new HttpError(503, 'Another request for the same job is being handled; retry', 'BUSY');
      await sleep(25 + Math.random() * 50);
    }
    try {
      return await work();
    } finally {
      await this.deps.redis.eval(RELEASE, 1, key, holder);
    }
  }
}
