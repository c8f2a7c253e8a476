import type { JobsOptions, Queue } from 'bullmq';
import { enqueueLockKey, enqueueUnique, type Enqueued } from '../queue/enqueue-unique.js';
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

/**
 * Enqueues the parent of a cohort's creation under `cohort-create-<name>`: while one is
 * pending it is answered (no second run); a finished one is replaced, its children kept
 * (their sealed passwords stay until read or purged).
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
  return enqueueUnique(
    { queue, queueName: queue.name, name: COHORT_JOBS.create, jobId, data, jobOptions: options.jobOptions, removeChildren: false },
    lockOf(queue, options.redis, jobId),
  );
}

/**
 * Enqueues an operation on every member of a cohort, deduplicated the same way: the
 * deletion (`cohort-delete-<name>`) or a new expiry (`cohort-expiry-<name>`).
 */
export function enqueueCohortDelete(queue: Queue, cohort: string, options: EnqueueCohortOptions): Promise<Enqueued> {
  return enqueueMembersRun(queue, 'delete', cohort, {}, options);
}

export function enqueueCohortExpiry(queue: Queue, cohort: string, expiresAt: string, options: EnqueueCohortOptions): Promise<Enqueued> {
  return enqueueMembersRun(queue, 'expiry', cohort, { expiresAt }, options);
}

function enqueueMembersRun(queue: Queue, kind: 'delete' | 'expiry', cohort: string, extra: object, options: EnqueueCohortOptions): Promise<Enqueued> {
  const now = options.now ?? Date.now();
  const data: CohortDeleteRunData = { runId: newRunId(now), requestedAt: new Date(now).toISOString(), origin: options.origin, cohort, ...extra };
  const jobId = kind === 'delete' ? cohortDeleteJobId(cohort) : cohortExpiryJobId(cohort);
  return enqueueUnique(
    { queue, queueName: queue.name, name: COHORT_JOBS[kind], jobId, data, jobOptions: options.jobOptions, removeChildren: false },
    lockOf(queue, options.redis, jobId),
  );
}
