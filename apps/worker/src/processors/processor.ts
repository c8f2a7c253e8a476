import type { Job } from 'bullmq';
import type { Logger, ProvisioningService, SecretStore } from '@kup/core';
import type { UserLocks } from './run-job.js';

/** A BullMQ processor for one job name. */
export type JobProcessor = (job: Job, token: string | undefined, signal: AbortSignal | undefined) => Promise<unknown>;

/** The trainees' expire jobs, one each (trainees/expiry-scheduler.ts). */
export interface ExpiryJobs {
  /** Adds the trainee's, due at `expiresAt`, or moves the one waiting. */
  schedule(username: string, expiresAt: string): Promise<void>;
  /** Adds a missing one (true when it did). */
  ensure(username: string): Promise<boolean>;
  /** Whether `ensure` would add one. */
  isMissing?(username: string): Promise<boolean>;
  /** Removes the one still waiting, of a trainee who is gone (true when it did). */
  cancel?(username: string): Promise<boolean>;
}

/** What the provisioning processors need: narrow on purpose. */
export interface ProvisioningProcessorDeps {
  service: Pick<ProvisioningService, 'create' | 'rollbackCreate' | 'delete'>;
  secrets: Pick<SecretStore, 'putIfAbsent' | 'touch' | 'remove'>;
  locks: UserLocks;
  log: Logger;
  /** The trainees' expire jobs: a create that succeeds sets its trainee's, a delete removes it. */
  expiry?: ExpiryJobs;
  /** `WORKER_MAX_STALLED_COUNT`: interruptions after which a job fails, cleaned up (see runJob). */
  stallLimit?: number;
}
