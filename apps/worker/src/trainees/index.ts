import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { ExpiryService, PasswordResetService, ProfileService, QUEUES, defaultJobOptions, fleetSettings, setExpiryJobData, setProfileJobData, type Logger, type ProvisioningService, type SecretStore, type WorkerEnv } from '@kup/core';
import type { WorkerPorts } from '../worker.js';
import type { QueryAnswerer } from '../queries/answer-queries.js';
import type { JobProcessor } from '../processors/processor.js';
import type { UserLocks } from '../processors/run-job.js';
import { BullExpiryScheduler } from './expiry-scheduler.js';
import { expireProcessor } from './expiry.processor.js';
import { resetPasswordProcessor } from './password-reset.processor.js';
import { traineeChangeProcessor } from './trainee-change.processor.js';
import { traineeAnswerers } from './trainee-answers.js';

export { BullExpiryScheduler } from './expiry-scheduler.js';

export interface TraineeParts {
  /** Adds, moves and re-creates the trainees' expire jobs. */
  scheduler: BullExpiryScheduler;
  processors: { expire: JobProcessor; 'set-expiry': JobProcessor; 'set-profile': JobProcessor; 'reset-password': JobProcessor };
  answerers: QueryAnswerer[];
  close(): Promise<void>;
}

/** The worker's trainee half: expiry on time and the answers to the trainee API's reads. */
export function createTraineeParts(
  config: WorkerEnv,
  deps: { redis: Redis; ports: WorkerPorts; service: Pick<ProvisioningService, 'delete'>; secrets: SecretStore; locks: UserLocks; logger: Logger },
): TraineeParts {
  const queue = new Queue(QUEUES.provisioning, { connection: deps.redis, prefix: config.QUEUE_PREFIX });
  queue.on('error', (error) => deps.logger.warn({ err: error.message, queue: queue.name }, 'queue error'));
  const scheduler = new BullExpiryScheduler(queue, defaultJobOptions(config));
  const settings = fleetSettings(config);
  const expiry = new ExpiryService(deps.ports, settings, scheduler);
  const profiles = new ProfileService(deps.ports, settings);
  const passwords = new PasswordResetService(deps.ports, settings.guards);
  const processorDeps = { expiry, service: deps.service, secrets: deps.secrets, locks: deps.locks, log: deps.logger, stallLimit: config.WORKER_MAX_STALLED_COUNT };
  return {
    scheduler,
    processors: {
      expire: expireProcessor(processorDeps),
      // Moves a trainee's expiry in Keycloak, on the namespace and in its expire job.
      'set-expiry': traineeChangeProcessor(processorDeps, setExpiryJobData, (input, signal) => expiry.setExpiry(input, signal)),
      // Moves a trainee to another quota profile (namespace label, quota, LimitRange).
      'set-profile': traineeChangeProcessor(processorDeps, setProfileJobData, (input, signal) => profiles.setProfile(input, signal)),
      // Replaces a lost password in Keycloak and Grafana; the new one sealed under the job's key.
      'reset-password': resetPasswordProcessor({ ...processorDeps, passwords }),
    },
    answerers: traineeAnswerers(deps.ports, settings),
    close: () => queue.close(),
  };
}
