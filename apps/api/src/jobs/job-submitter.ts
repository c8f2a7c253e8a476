import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Job, JobsOptions, Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { SpanKind, inSpan, jobTraceFields, secretKeyOf, type QueueName } from '@kup/core';
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
 * What to do with a job found under the id: answer it (`answer`), or, when it has
 * finished, replace it (`replace`); throw to refuse the request (e.g. a 409). It is asked
 * about every job found, including one that another request added at the same moment.
 * Without a policy, an unfinished job is answered and a finished one replaced.
 */
export type ExistingJobPolicy = (existing: Job, state: string) => Promise<'answer' | 'replace'>;

/**
 * Whether the job stored under the id is the one this add made: same creation time (two
 * requests can share a millisecond) and the same values for every field we sent (the
 * worker only adds fields of its own).
 */
function isOurs(stored: Job, added: Job, data: object): boolean {
  const held = (stored.data ?? {}) as Record<string, unknown>;
  return stored.timestamp === added.timestamp && Object.entries(data).every(([key, value]) => JSON.stringify(held[key]) === JSON.stringify(value));
}

const defaultPolicy: ExistingJobPolicy = async (_existing, state) => (FINISHED.has(state) || state === 'unknown' ? 'replace' : 'answer');

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

  submit(queue: QueueName, name: string, jobId: string, data: object, policy?: ExistingJobPolicy): Promise<Submission> {
    return this.deps.guard.run(
      async () =>
        (await this.addOrFindPending(queue, name, jobId, data, policy)) ??
        this.withLock(jobId, () => this.replaceUnlessPending(queue, name, jobId, data, policy ?? defaultPolicy)),
    );
  }

  /**
   * Adds the job with the request id and the trace context in its data (the worker logs
   * the one and continues the other), in a producer span. `isOurs` compares only the
   * caller's fields, which these do not change.
   */
  private add(queueName: QueueName, name: string, jobId: string, data: object): Promise<Job> {
    const attributes = { 'messaging.system': 'bullmq', 'messaging.operation.type': 'send', 'messaging.destination.name': queueName, 'messaging.message.id': jobId, 'kup.job.name': name };
    return inSpan(`send ${queueName}`, { kind: SpanKind.PRODUCER, attributes }, () =>
      this.deps.queues[queueName].add(name, { ...data, ...jobTraceFields() }, { ...this.deps.jobOptions, jobId }));
  }

  /** The policy's verdict; a job still unfinished is never replaced. */
  private async decide(policy: ExistingJobPolicy, existing: Job): Promise<'answer' | 'replace'> {
    const state = await existing.getState();
    const verdict = await policy(existing, state);
    return verdict === 'replace' && (FINISHED.has(state) || state === 'unknown') ? 'replace' : 'answer';
  }

  /**
   * The common cases without the lock: no job with that id (add it: BullMQ's add is atomic
   * on the id, so a concurrent add of the same id is a no-op), or an unfinished one (answer
   * it). Undefined when a finished job must be replaced, which needs the lock.
   */
  private async addOrFindPending(queueName: QueueName, name: string, jobId: string, data: object, policy: ExistingJobPolicy | undefined): Promise<Submission | undefined> {
    const queue = this.deps.queues[queueName];
    const existing = await queue.getJob(jobId);
    if (!existing) {
      const job = await this.add(queueName, name, jobId, data);
      if (!policy) return { job, created: true };
      // BullMQ's add of an id that exists is a no-op that still answers with our data:
      // read back what is stored, so a request that lost the race is judged against the
      // job that won (another identity's, say) rather than answered with its id.
      const stored = await queue.getJob(jobId);
      if (!stored || isOurs(stored, job, data)) return { job, created: true };
      return (await this.decide(policy, stored)) === 'answer' ? { job: stored, created: false } : undefined;
    }
    return (await this.decide(policy ?? defaultPolicy, existing)) === 'answer' ? { job: existing, created: false } : undefined;
  }

  private async replaceUnlessPending(queueName: QueueName, name: string, jobId: string, data: object, policy: ExistingJobPolicy): Promise<Submission> {
    const queue = this.deps.queues[queueName];
    const existing = await queue.getJob(jobId);
    if (existing) {
      if ((await this.decide(policy, existing)) === 'answer') return { job: existing, created: false };
      await existing.remove();
      await this.deps.secrets.remove(secretKeyOf(existing));
    }
    const job = await this.add(queueName, name, jobId, data);
    // A lockless add may have slipped in between the remove and this add: judge that one.
    const stored = await queue.getJob(jobId);
    if (stored && !isOurs(stored, job, data)) {
      await this.decide(policy, stored);
      return { job: stored, created: false };
    }
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
