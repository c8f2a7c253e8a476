import type { JobsOptions, Queue } from 'bullmq';
import { answerOnlySameRequest, enqueueLockKey, enqueueUnique, shownValue, type Enqueued } from '../queue/enqueue-unique.js';
import { newRunId } from '../queue/fleet-contract.js';
import { RedisMutex, type MutexRedis } from '../store/redis-mutex.js';
import { COHORT_JOBS, cohortCreateJobId, cohortDeleteJobId, cohortExpiryJobId, type CohortCreateRunData, type CohortDeleteRunData, type CohortMember } from './contract.js';

export interface EnqueueCohortOptions {
  origin: string;
  jobOptions: JobsOptions;
  redis: MutexRedis;
  now?: number;
}

export interface CohortCreateRequest {
  cohort: string;
  members: CohortMember[];
  expiresAt?: string | undefined;
  profile?: string | undefined;
}

const lockOf = (queue: Queue, redis: MutexRedis, jobId: string) => ({ mutex: new RedisMutex(redis), key: enqueueLockKey(queue.opts.prefix ?? 'bull', queue.name, jobId) });

/** An instant as the same whatever its spelling (`…Z`, `….000Z`, `+00:00`); absent stays absent. */
const instant = (value: unknown): unknown => (typeof value === 'string' && !Number.isNaN(Date.parse(value)) ? Date.parse(value) : value);

/** The trainee list in a fixed order: the same rows in another order are the same cohort. */
const memberList = (members: unknown): string =>
  JSON.stringify(
    (Array.isArray(members) ? (members as CohortMember[]) : [])
      .map((m) => [m.username, m.email ?? null, m.fullName ?? null])
      .sort((a, b) => String(a[0]).localeCompare(String(b[0]))),
  );

function expiryDifference(pending: Record<string, unknown>, expiresAt: string | undefined): string[] {
  return instant(pending.expiresAt) === instant(expiresAt) ? [] : [`expiresAt: ${shownValue(pending.expiresAt)} pending, ${shownValue(expiresAt)} asked`];
}

/**
 * What a pending cohort creation asks differently from `data`: the trainee list (in any order;
 * the message gives its size, never the people), the expiry, the profile. Empty: the same request.
 */
export function cohortCreateDifferences(pending: Record<string, unknown>, data: CohortCreateRunData): string[] {
  const found: string[] = [];
  if (memberList(pending.members) !== memberList(data.members)) {
    const size = Array.isArray(pending.members) ? pending.members.length : 0;
    found.push(`trainees: another list pending (${size} trainees), ${data.members.length} asked`);
  }
  found.push(...expiryDifference(pending, data.expiresAt));
  if (pending.profile !== data.profile) found.push(`profile: ${shownValue(pending.profile)} pending, ${shownValue(data.profile)} asked`);
  return found;
}

/**
 * Enqueues the parent of a cohort's creation under `cohort-create-<name>`: while one is
 * pending, the same request is answered with it (no second run) and another one (a corrected
 * trainee list, another expiry or profile) is refused with `DifferentRunPendingError` (the
 * API's 409); a finished one is replaced, its children kept (their sealed passwords stay until
 * read or purged).
 */
export function enqueueCohortCreate(queue: Queue, request: CohortCreateRequest, options: EnqueueCohortOptions): Promise<Enqueued> {
  const now = options.now ?? Date.now();
  const data: CohortCreateRunData = {
    runId: newRunId(now),
    requestedAt: new Date(now).toISOString(),
    origin: options.origin,
    cohort: request.cohort,
    members: request.members,
    ...(request.expiresAt ? { expiresAt: request.expiresAt } : {}),
    ...(request.profile ? { profile: request.profile } : {}),
  };
  const jobId = cohortCreateJobId(request.cohort);
  const policy = answerOnlySameRequest(`creation of cohort "${request.cohort}"`, (pending) => cohortCreateDifferences(pending, data));
  return enqueueUnique(
    { queue, queueName: queue.name, name: COHORT_JOBS.create, jobId, data, jobOptions: options.jobOptions, removeChildren: false, policy },
    lockOf(queue, options.redis, jobId),
  );
}

/**
 * Enqueues an operation on every member of a cohort, deduplicated the same way: the
 * deletion (`cohort-delete-<name>`) or a new expiry (`cohort-expiry-<name>`; a pending one
 * for another date refuses the request).
 */
export function enqueueCohortDelete(queue: Queue, cohort: string, options: EnqueueCohortOptions): Promise<Enqueued> {
  return enqueueMembersRun(queue, 'delete', cohort, {}, options);
}

export function enqueueCohortExpiry(queue: Queue, cohort: string, expiresAt: string, options: EnqueueCohortOptions): Promise<Enqueued> {
  return enqueueMembersRun(queue, 'expiry', cohort, { expiresAt }, options);
}

function enqueueMembersRun(queue: Queue, kind: 'delete' | 'expiry', cohort: string, extra: { expiresAt?: string }, options: EnqueueCohortOptions): Promise<Enqueued> {
  const now = options.now ?? Date.now();
  const data: CohortDeleteRunData = { runId: newRunId(now), requestedAt: new Date(now).toISOString(), origin: options.origin, cohort, ...extra };
  const jobId = kind === 'delete' ? cohortDeleteJobId(cohort) : cohortExpiryJobId(cohort);
  // A deletion asks nothing but the cohort (its id): only an expiry change can differ.
  const policy = kind === 'expiry' ? answerOnlySameRequest(`expiry change of cohort "${cohort}"`, (pending) => expiryDifference(pending, extra.expiresAt)) : undefined;
  return enqueueUnique(
    { queue, queueName: queue.name, name: COHORT_JOBS[kind], jobId, data, jobOptions: options.jobOptions, removeChildren: false, ...(policy ? { policy } : {}) },
    lockOf(queue, options.redis, jobId),
  );
}
