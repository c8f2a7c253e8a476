// The fleet workers of the worker app, in this process, against the stack, with a queue
// prefix of the test's own; trainees are made and removed with the real ProvisioningService.
import { Queue, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import { createAdapters, type Adapters } from '@kup/adapters';
import {
  createLogger,
  defaultJobOptions,
  enqueueFleetRun,
  generatePassword,
  identityGuards,
  memoryJobState,
  oidcIssuer,
  playgroundSettings,
  ProvisioningService,
  QUEUES,
  Sealer,
  SecretStore,
  UserLock,
  type CreateState,
  type DeleteState,
  type FleetKind,
  type FleetRequest,
  type StepContext,
  type WorkerEnv,
} from '@kup/core';
import { createFleetWorkers, type FleetWorkers } from '../../apps/worker/src/fleet-workers.js';
import { LogCapture } from '../helpers/logs.js';
import { emailOf, uniquePrefix } from '../helpers/names.js';
import { ensureTraineeClusterRole, stackEnv, workerConfig } from '../helpers/stack.js';
import { waitForJob, type FinishedJob } from '../helpers/worker.js';

export interface FleetHarness {
  config: WorkerEnv;
  ports: Adapters;
  fleet: Queue;
  fleetUser: Queue;
  secrets: SecretStore;
  workers: FleetWorkers;
  logs: string[];
  /** Provisions a trainee completely (as a create job would); returns its Keycloak id. */
  provision(username: string, expiresAt?: string): Promise<string>;
  /** Deletes a trainee everywhere (as a delete job would). */
  remove(username: string): Promise<void>;
  enqueue(kind: FleetKind, request: FleetRequest): Promise<{ job: Job; created: boolean }>;
  run(kind: FleetKind, request: FleetRequest, timeoutMs?: number): Promise<FinishedJob>;
  close(): Promise<void>;
}

const silent = { info: () => undefined, warn: () => undefined, debug: () => undefined };

export async function fleetHarness(overrides: Record<string, string> = {}): Promise<FleetHarness> {
  await ensureTraineeClusterRole();
  const config = workerConfig({
    QUEUE_PREFIX: uniquePrefix('f'),
    JOB_ATTEMPTS: '2',
    JOB_BACKOFF_MS: '300',
    NAMESPACE_DELETE_TIMEOUT_SECONDS: '90',
    RESET_SCHEDULE_ENABLED: 'false',
    CLEANUP_SCHEDULE_ENABLED: 'false',
    SYNC_SCHEDULE_ENABLED: 'false',
    FLEET_CONCURRENCY: '4',
    ...overrides,
  });
  const redis = new Redis(config.REDIS_URL, { maxRetriesPerRequest: null });
  const ports = createAdapters(config, { caFile: stackEnv('STACK_CA_FILE') });
  const secrets = new SecretStore(redis, Sealer.fromEncodedKey(config.RESULT_ENCRYPTION_KEY), config.QUEUE_PREFIX, config.PASSWORD_TTL_SECONDS);
  const logs = new LogCapture();
  const logger = createLogger({ name: 'fleet-test', level: 'debug' }, logs);

  const fleet = new Queue(QUEUES.fleet, { connection: redis, prefix: config.QUEUE_PREFIX });
  const fleetUser = new Queue(QUEUES.fleetUser, { connection: redis, prefix: config.QUEUE_PREFIX });
  const service = new ProvisioningService({
    ...ports,
    settings: playgroundSettings(config, oidcIssuer(config)),
    grafanaOrgId: config.GRAFANA_ORG_ID,
    grafanaRole: config.GRAFANA_ROLE,
    defaultExpiryDays: config.DEFAULT_EXPIRY_DAYS,
    namespaceDeleteTimeoutMs: config.NAMESPACE_DELETE_TIMEOUT_SECONDS * 1000,
    guards: identityGuards(config),
  });
  const locks = new UserLock(redis, config.QUEUE_PREFIX);
  const workers = createFleetWorkers(config, { redis, ports, secrets, locks, logger, provisioning: { service, secrets, locks, log: logger } });
  await workers.start();
  const context = <S extends object>(key: string): StepContext<S> => {
    const password = generatePassword();
    return { jobKey: key, password: async () => password, state: memoryJobState<S>(), progress: async () => undefined, log: silent as never };
  };
  const jobOptions = defaultJobOptions(config);

  const harness: FleetHarness = {
    config,
    ports,
    fleet,
    fleetUser,
    secrets,
    workers,
    logs: logs.lines,
    async provision(username, expiresAt) {
      const result = await service.create({ username, email: emailOf(username), ...(expiresAt ? { expiresAt } : {}) }, context<CreateState>(`t-${username}`));
      return result.userId;
    },
    async remove(username) {
      await service.delete({ usernames: [username] }, context<DeleteState>(`t-del-${username}`));
    },
    enqueue: (kind, request) => enqueueFleetRun(fleet, kind, request, { origin: 'test', jobOptions, redis }),
    async run(kind, request, timeoutMs = 150_000) {
      const { job } = await harness.enqueue(kind, request);
      return waitForJob(fleet, job.id as string, timeoutMs);
    },
    async close() {
      await workers.close(true);
      for (const queue of [fleet, fleetUser]) await queue.obliterate({ force: true }).catch(() => undefined);
      await Promise.allSettled([fleet.close(), fleetUser.close()]);
      await ports.close();
      await redis.quit().catch(() => redis.disconnect());
    },
  };
  return harness;
}
