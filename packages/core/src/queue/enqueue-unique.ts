import type { Job, JobsOptions, Queue } from 'bullmq';
import { RedisMutex, newLockToken } from '../store/redis-mutex.js';
import { SpanKind, inSpan, jobTraceFields } from '../tracing/index.js';

const FINISHED = new Set(['completed', 'failed']);
const isFinished = (state: string) => FINISHED.has(state) || state === 'unknown';

/**
 * What to do with a job found under the id: answer it (`answer`), or, when it has
 * finished, replace it (`replace`); throw to refuse the request (e.g. a 409). It is asked
 * about every job found, including one that another producer added at the same moment.
 * Without a policy, an unfinished job is answered and a finished one replaced.
 */
export type ExistingJobPolicy = (existing: Job, state: string) => Promise<'answer' | 'replace'>;

export interface EnqueueUniqueRequest {
  queue: Pick<Queue, 'add' | 'getJob'>;
  /** The queue's name, for the producer span. */
  queueName: string;
  name: string;
  jobId: string;
  /** The caller's fields; the request id and trace context are added to them. */
  data: object;
  jobOptions: JobsOptions;
  policy?: ExistingJobPolicy;
  /** Whether removing a finished job removes its children too (BullMQ's default: yes). */
  removeChildren?: boolean;
  /** Called after a finished job was removed to make room (e.g. to drop its sealed password). */
  onRemoved?: (removed: Job) => Promise<void>;
  /**
   * A cheap read-back: only the creation time and data of the job stored under the id
   * (undefined when there is none). When given, a new job (the common case) is told from
   * one that was there without reading and decoding the whole job; the whole job is read
   * only when it is not ours.
   */
  readHolder?: (jobId: string) => Promise<HeldJob | undefined>;
}

/** What `readHolder` reads of a stored job: enough to tell whether our add made it. */
export interface HeldJob {
  timestamp: number;
  data: unknown;
}

export interface EnqueueLock {
  mutex: RedisMutex;
  /** `enqueueLockKey(prefix, queue, jobId)`. */
  key: string;
  ttlMs?: number;
  waitMs?: number;
}

export interface Enqueued {
  job: Job;
  /** False when a job under the id was answered instead (pending, or added by a rival). */
  created: boolean;
}

/**
 * Refused because another producer kept the replace lock for too long: retry later. Not a
 * job failure code (it never fails a job: inside a job it is an internal error, retried); the
 * API answers it with 503 `BUSY`.
 */
export class EnqueueBusyError extends Error {
  readonly code = 'BUSY';

  constructor() {
    super('Another request for the same job is being handled; retry');
    this.name = 'EnqueueBusyError';
  }
}

/**
 * Refused because an unfinished job under the same id was asked with different data (a fleet
 * run of another scope or mode, a cohort creation with another trainee list): answering it would
 * give the caller another request's run. Nothing was enqueued; the same request as the pending
 * one is still answered with it. Not a job failure code (it never fails a job); the API answers
 * it with 409 `DIFFERENT_RUN_PENDING` and the pending job's id.
 */
export class DifferentRunPendingError extends Error {
  readonly code = 'DIFFERENT_RUN_PENDING';

  constructor(
    /** The pending job's id (the id this request would have had). */
    readonly jobId: string,
    what: string,
    /** What differs, one item per field: `mode: "purge" pending, "recreate" asked`. */
    readonly differences: readonly string[],
  ) {
    super(`a different ${what} is still pending under the id "${jobId}" (${differences.join('; ')}): nothing was enqueued; try again when it has ended`);
    this.name = 'DifferentRunPendingError';
  }
}

/**
 * The policy of a job id that requests with different data share: a finished job is replaced;
 * an unfinished one is answered only when `differences` finds nothing (the same request again),
 * else the request is refused with `DifferentRunPendingError`. It reads only the job that
 * enqueueUnique already read back: no Redis round trip of its own.
 */
export function answerOnlySameRequest(what: string, differences: (pendingData: Record<string, unknown>) => string[]): ExistingJobPolicy {
  return async (existing, state) => {
    if (isFinished(state)) return 'replace';
    const found = differences((existing.data ?? {}) as Record<string, unknown>);
    if (found.length === 0) return 'answer';
    throw new DifferentRunPendingError(existing.id ?? '', what, found);
  };
}

/** A value in a conflict's message: quoted text, `none` when absent. */
export const shownValue = (value: unknown): string => (value === undefined ? 'none' : JSON.stringify(value));

/** Where the replace lock of a job id lives: beside the queues, under their prefix. */
export const enqueueLockKey = (prefix: string, queueName: string, jobId: string): string => `${prefix}:lock:enqueue:${queueName}:${jobId}`;

/**
 * Whether the job stored under the id is the one this add made: same creation time and
 * the same values for every field we sent (the worker only adds fields of its own).
 * Needed because BullMQ's add of a taken id changes nothing yet answers with our data.
 */
function isOurs(stored: HeldJob, added: Job, data: object): boolean {
  const held = (stored.data ?? {}) as Record<string, unknown>;
  return stored.timestamp === added.timestamp && Object.entries(data).every(([key, value]) => sameValue(held[key], value));
}

/** Equal as JSON: strings and numbers (nearly every field) compared as they are, objects as JSON text. */
const sameValue = (stored: unknown, sent: unknown): boolean =>
  stored === sent || (typeof sent === 'object' && sent !== null && JSON.stringify(stored) === JSON.stringify(sent));

/**
 * The one enqueue-and-replace of the project (the API's create and delete, and every
 * fleet run: API, schedules, CLI). Adds a job under a fixed id, deduplicated: an
 * unfinished job with the id is answered as is; a finished one is removed and replaced.
 * The common cases take no lock (BullMQ's add is atomic on the id, and a no-op when the
 * id is taken); replacing (check-remove-add) runs under a short Redis mutex per job id so
 * two producers cannot both replace the job. Every add is read back, so a producer that lost a race is
 * answered with the winner's job (judged by the policy) and `created: false`.
 */
export async function enqueueUnique(request: EnqueueUniqueRequest, lock: EnqueueLock): Promise<Enqueued> {
  const policy = request.policy ?? (async (_existing: Job, state: string) => (isFinished(state) ? 'replace' : 'answer'));
  return (await addOrFindPending(request, policy)) ?? (await underLock(lock, () => replaceUnlessPending(request, policy)));
}

/** The policy's verdict; a job still unfinished is never replaced. */
async function decide(policy: ExistingJobPolicy, existing: Job): Promise<'answer' | 'replace'> {
  const state = await existing.getState();
  const verdict = await policy(existing, state);
  return verdict === 'replace' && isFinished(state) ? 'replace' : 'answer';
}

/** Adds the job with the request id and trace context in its data, in a producer span. */
function add(request: EnqueueUniqueRequest): Promise<Job> {
  const { queue, queueName, name, jobId, data, jobOptions } = request;
  const attributes = { 'messaging.system': 'bullmq', 'messaging.operation.type': 'send', 'messaging.destination.name': queueName, 'messaging.message.id': jobId, 'kup.job.name': name };
  return inSpan(`send ${queueName}`, { kind: SpanKind.PRODUCER, attributes }, () => queue.add(name, { ...data, ...jobTraceFields() }, { ...jobOptions, jobId }));
}

/**
 * Without the lock: add under the id, then read back who holds it. BullMQ's add of a taken
 * id changes nothing, so no read is needed before it: the read-back tells a new job (ours)
 * from one that was there (answer it, or replace it under the lock). Undefined when a
 * finished job must be replaced, which needs the lock.
 */
async function addOrFindPending(request: EnqueueUniqueRequest, policy: ExistingJobPolicy): Promise<Enqueued | undefined> {
  const { readHolder } = request;
  const adding = add(request);
  const reading = readHolder ? readOnceQueued(readHolder, request.jobId) : undefined;
  let job: Job;
  try {
    job = await adding;
  } catch (error) {
    reading?.catch(() => undefined);
    throw error;
  }
  if (readHolder && reading) {
    // Read before the add had run, the id was free then, but a rival may have taken it since: read again.
    const held = (await reading) ?? (await readHolder(request.jobId));
    if (!held || isOurs(held, job, request.data)) return { job, created: true };
  }
  const stored = await request.queue.getJob(request.jobId);
  if (!stored || isOurs(stored, job, request.data)) return { job: stored ?? job, created: true };
  return (await decide(policy, stored)) === 'answer' ? { job: stored, created: false } : undefined;
}

/**
 * The read-back, sent in the add's own round trip: BullMQ's add reaches ioredis without waiting
 * on I/O, so once the promise jobs of this turn have run (process.nextTick comes after them) the
 * add is sent or queued, and a read sent then follows it, in the same write when the connection
 * auto-pipelines or its socket is corked (the API's JobSubmitter). Which one
 * Redis ran first only matters when the read found no job: a job found is ours (our creation
 * time and data, request id included) or was there before our add, which then changed nothing;
 * "none" is read again once the add has answered (docs/benchmarks.md, P1).
 */
function readOnceQueued(readHolder: (jobId: string) => Promise<HeldJob | undefined>, jobId: string): Promise<HeldJob | undefined> {
  return new Promise((resolve, reject) => {
    process.nextTick(() => readHolder(jobId).then(resolve, reject));
  });
}

async function replaceUnlessPending(request: EnqueueUniqueRequest, policy: ExistingJobPolicy): Promise<Enqueued> {
  const existing = await request.queue.getJob(request.jobId);
  if (existing) {
    if ((await decide(policy, existing)) === 'answer') return { job: existing, created: false };
    // Another producer's lockless path never removes, but retention may have: that is fine.
    await existing.remove({ removeChildren: request.removeChildren ?? true }).catch(() => undefined);
    await request.onRemoved?.(existing);
  }
  const job = await add(request);
  // A lockless add may have slipped in between the remove and this add: judge that one.
  const stored = await request.queue.getJob(request.jobId);
  if (stored && !isOurs(stored, job, request.data)) {
    await decide(policy, stored);
    return { job: stored, created: false };
  }
  return { job: stored ?? job, created: true };
}

async function underLock<T>(lock: EnqueueLock, work: () => Promise<T>): Promise<T> {
  const ttlMs = lock.ttlMs ?? 5_000;
  const token = newLockToken();
  if (!(await lock.mutex.acquireWithin(lock.key, token, ttlMs, lock.waitMs ?? 3_000))) throw new EnqueueBusyError();
  return lock.mutex.hold(lock.key, token, ttlMs, work);
}
