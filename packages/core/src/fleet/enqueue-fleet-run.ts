import type { Job, JobsOptions, Queue } from 'bullmq';
import { answerOnlySameRequest, enqueueLockKey, enqueueUnique, shownValue } from '../queue/enqueue-unique.js';
import { RedisMutex, type MutexRedis } from '../store/redis-mutex.js';
import {
  fleetRequestSchemas,
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
  /** False when the same run (same id, same request) was already pending and is answered instead. */
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

/** A flag is stored only when set (sync's `dryRun`, `resetPasswords`): `false` and absent ask the same. */
const asked = (value: unknown): unknown => (value === false ? undefined : value);

/**
 * What a pending run's data asks differently from `data` (both with defaults applied), one
 * item per field the caller chooses (the request schema's: scope, mode, prefix, dry run,
 * cohort or username…); empty when it is the same request. The run's own fields (`runId`,
 * `origin`, `state`…) never count: a schedule's firing asks the same as the same manual call.
 */
export function fleetRequestDifferences(kind: FleetKind, pending: Record<string, unknown>, data: FleetRunData): string[] {
  const wanted = data as Record<string, unknown>;
  return Object.keys(fleetRequestSchemas[kind].shape)
    .filter((field) => asked(pending[field]) !== asked(wanted[field]))
    .map((field) => `${field}: ${shownValue(pending[field])} pending, ${shownValue(wanted[field])} asked`);
}

/**
 * Enqueues a fleet run under its fixed id, the one function the API, the CLI and the
 * schedulers use. While a run under that id is pending, the same request is answered with
 * that run and nothing new starts (the old CronJobs' `concurrencyPolicy: Forbid`); a request
 * that differs (another mode, scope, prefix, `maxAgeDays`, dry run or not, a cohort's run
 * against the user `cohort-<name>`'s) is refused with `DifferentRunPendingError` (the API's
 * 409) and enqueues nothing. A finished one is replaced (through `enqueueUnique`, as create
 * does). Its children stay (until their own retention): a sync child keeps its sealed
 * password readable.
 */
export function enqueueFleetRun(queue: Queue, kind: FleetKind, request: FleetRequest, options: EnqueueFleetOptions): Promise<EnqueuedRun> {
  // Only sync's dry run runs under an id of its own; cleanup's shares the cleanup id, so a
  // pending real cleanup refuses a dry run (and the other way round) rather than answer it.
  const dryRun = kind === 'sync' && (request as SyncRequest).dryRun === true;
  const jobId = fleetRunJobId(kind, 'username' in request ? request.username : undefined, 'cohort' in request ? request.cohort : undefined, dryRun);
  const data = fleetRunData(kind, request, options.origin, options.now ?? Date.now());
  const lock = { mutex: new RedisMutex(options.redis), key: enqueueLockKey(queue.opts.prefix ?? 'bull', queue.name, jobId) };
  const policy = answerOnlySameRequest(`${kind} run`, (pending) => fleetRequestDifferences(kind, pending, data));
  return enqueueUnique({ queue, queueName: queue.name, name: kind, jobId, data, jobOptions: options.jobOptions, removeChildren: false, policy }, lock);
}
