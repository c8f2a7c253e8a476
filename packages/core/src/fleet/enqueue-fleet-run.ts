import type { Job, JobsOptions, Queue } from 'bullmq';
import { enqueueLockKey, enqueueUnique } from '../queue/enqueue-unique.js';
import { RedisMutex, type MutexRedis } from '../store/redis-mutex.js';
import {
  fleetRunJobId,
  newRunId,
  type CleanupRequest,
  type FleetKind,
  type FleetRunData,
  type ResetRequest,
  type SyncRequest,
} from '../queue/fleet-contract.js';

export type FleetRequest = ResetRequest | CleanupRequest | SyncRequest;

/** A cleanup's `maxAgeDays` when the request gives none (the old CronJob's: a year). */
export const DEFAULT_CLEANUP_MAX_AGE_DAYS = 365;

export interface EnqueueFleetOptions {
  /** Who asks: `api`, `schedule`, `cli`. */
  origin: string;
  jobOptions: JobsOptions;
  /** The Redis the queue uses: the replace lock lives there, under the queue's prefix. */
  redis: MutexRedis;
  now?: number;
}

export interface EnqueuedRun {
  job: Job;
  /** False when a run of this kind was already pending and is answered instead. */
  created: boolean;
}

/** Defaults applied once, at enqueue time: the parent's data says exactly what the run does. */
export function fleetRunData(kind: FleetKind, request: FleetRequest, origin: string, now: number): FleetRunData {
  const base = { runId: newRunId(now), requestedAt: new Date(now).toISOString(), origin };
  const prefix = request.usernamePrefix ? { usernamePrefix: request.usernamePrefix } : {};
  switch (kind) {
    case 'reset': {
      const r = request as ResetRequest;
      return { ...base, ...prefix, ...(r.username ? { username: r.username } : {}), ...(r.cohort ? { cohort: r.cohort } : {}), mode: r.mode ?? 'recreate' };
    }
    case 'cleanup': {
      const r = request as CleanupRequest;
      return { ...base, ...prefix, maxAgeDays: r.maxAgeDays ?? DEFAULT_CLEANUP_MAX_AGE_DAYS, dryRun: r.dryRun ?? false, ...(r.confirmMassDelete ? { confirmMassDelete: true } : {}) };
    }
    case 'sync': {
      const r = request as SyncRequest;
      return {
        ...base,
        ...prefix,
        ...(r.username ? { username: r.username } : {}),
        ...(r.resetPasswords ? { resetPasswords: true } : {}),
        ...(r.dryRun ? { dryRun: true } : {}),
      };
    }
  }
}

/**
 * Enqueues a fleet run under its fixed id, the one function the API, the CLI and the
 * schedulers use. While a run of that kind (or for that user) is pending, that run is
 * returned and nothing new starts (the old CronJobs' `concurrencyPolicy: Forbid`); a
 * finished one is replaced (through `enqueueUnique`, as create does). Its children stay
 * (until their own retention): a sync child keeps its sealed password readable.
 */
export function enqueueFleetRun(queue: Queue, kind: FleetKind, request: FleetRequest, options: EnqueueFleetOptions): Promise<EnqueuedRun> {
  // Only sync's dry run runs under an id of its own; cleanup's shares the cleanup id.
  const dryRun = kind === 'sync' && (request as SyncRequest).dryRun === true;
  const jobId = fleetRunJobId(kind, 'username' in request ? request.username : undefined, 'cohort' in request ? request.cohort : undefined, dryRun);
  const data = fleetRunData(kind, request, options.origin, options.now ?? Date.now());
  const lock = { mutex: new RedisMutex(options.redis), key: enqueueLockKey(queue.opts.prefix ?? 'bull', queue.name, jobId) };
  return enqueueUnique({ queue, queueName: queue.name, name: kind, jobId, data, jobOptions: options.jobOptions, removeChildren: false }, lock);
}
