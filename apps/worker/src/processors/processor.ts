import type { Job } from 'bullmq';
import type { Logger, ProvisioningService, SecretStore } from '@kup/core';
import type { UserLocks } from './run-job.js';

/** A BullMQ processor for one job name. */
export type JobProcessor = (job: Job, token: string | undefined, signal: AbortSignal | undefined) => Promise<unknown>;

/** What the provisioning processors need: narrow on purpose. */
export interface ProvisioningProcessorDeps {
  service: Pick<ProvisioningService, 'create' | 'rollbackCreate' | 'delete'>;
  secrets: Pick<SecretStore, 'putIfAbsent' | 'touch' | 'remove'>;
  locks: UserLocks;
  log: Logger;
  /** The trainees' expire jobs: a create that succeeds sets its trainee's (trainees/expiry-scheduler.ts). */
  expiry?: { schedule(username: string, expiresAt: string): Promise<void>; ensure(username: string): Promise<boolean> };
  /** `WORKER_MAX_STALLED_COUNT`: interruptions after which a job fails, cleaned up (see runJob). */
  stallLimit?: number;
}
