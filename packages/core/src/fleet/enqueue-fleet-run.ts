import type { Job, JobsOptions, Queue } from 'bullmq';
import { jobTraceFields } from '../tracing/trace.js';
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
      return { ...base, ...prefix, ...(r.username ? { username: r.username } : {}), mode: r.mode ?? 'recreate' };
    }
    case 'cleanup': {
      const r = request as CleanupRequest;
      return { ...base, ...prefix, maxAgeDays: r.maxAgeDays ?? DEFAULT_CLEANUP_MAX_AGE_DAYS, dryRun: r.dryRun ?? false, ...(r.confirmMassDelete ? { confirmMassDelete: true } : {}) };
    }
    case 'sync': {
      const r = request as SyncRequest;
      return { ...base, ...prefix, ...(r.username ? { username: r.username } : {}), ...(r.resetPasswords ? { resetPasswords: true } : {}) };
    }
  }
}

const FINISHED = new Set(['completed', 'failed']);

/**
 * Enqueues a fleet run under its fixed id, the one function the API, the CLI and the
 * schedulers use. While a run of that kind (or for that user) is pending, that run is
 * returned and nothing new starts (the old CronJobs' `concurrencyPolicy: Forbid`); a
 * finished one is replaced, as create does.
 */
export async function enqueueFleetRun(queue: Queue, kind: FleetKind, request: FleetRequest, options: EnqueueFleetOptions): Promise<EnqueuedRun> {
  const jobId = fleetRunJobId(kind, 'username' in request ? request.username : undefined);
  for (let attempt = 0; attempt < 3; attempt++) {
    const existing = await queue.getJob(jobId);
    if (existing) {
      const state = await existing.getState();
      if (!FINISHED.has(state)) return { job: existing, created: false };
      // The children stay (until their own retention): a sync child keeps its sealed
      // password readable. Another producer may replace the run at the same moment: then
      // its new job is answered below.
      await existing.remove({ removeChildren: false }).catch(() => undefined);
    }
    const data = fleetRunData(kind, request, options.origin, options.now ?? Date.now());
    // The request id and trace context of who asked ride along (tracing/trace.ts).
    await queue.add(kind, { ...data, ...jobTraceFields() }, { ...options.jobOptions, jobId });
    // An add under a taken id changes nothing, yet BullMQ still answers a Job holding the
    // data it was given: only the stored job says whose run won.
    const stored = await queue.getJob(jobId);
    if (!stored) continue; // already removed again (retention): start over
    if ((stored.data as FleetRunData).runId === data.runId) return { job: stored, created: true };
    const state = await stored.getState();
    if (!FINISHED.has(state)) return { job: stored, created: false };
  }
  throw new Error(`could not enqueue ${kind}: its job id stays taken by finished runs`);
}
