import { Queue, Worker, type Job, type WorkerOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import {
  CleanupUserService,
  createJobId,
  createJobResult,
  createJobState,
  failedCreateRecord,
  secretKeyOf,
  type IdentityUser,
  defaultJobOptions,
  describeError,
  FLEET_SCHEDULES_QUEUE,
  fleetSettings,
  InventoryCache,
  jobLogFields,
  LeftGrafanaAccounts,
  takeReportedInventory,
  PURGE_KEEPS,
  QUEUES,
  ResetUserService,
  SyncUserService,
  type FleetPorts,
  type GrafanaRecord,
  type Logger,
  type SecretStore,
  type UserLock,
  type WorkerEnv,
} from '@kup/core';
import { dispatch } from './job-registry.js';
import { reportFailures } from './processors/job-failure.js';
import { fleetRunProcessor } from './processors/fleet-run.processor.js';
import { fleetScheduleProcessor } from './processors/fleet-schedule.processor.js';
import { fleetUserProcessors, reportParentProgress } from './processors/fleet-user.processor.js';
import { cohortRunProcessors } from './processors/cohort.processor.js';
import { cohortMemberProcessors } from './processors/cohort-member.processor.js';
import { stopOnLostJobLocks } from './processors/run-job.js';
import type { ExpiryJobs, ProvisioningProcessorDeps } from './processors/processor.js';
import type { JobProcessor } from './processors/processor.js';
import { ensureSchedules, recheckSchedules, type ScheduleCheck } from './schedules.js';
import type { WebhookWorkers } from './webhooks.js';

export interface FleetWorkersDeps {
  redis: Redis;
  ports: FleetPorts;
  secrets: SecretStore;
  locks: UserLock;
  logger: Logger;
  /** `fleet.completed` and `job.failed` of runs; `trainee.created`/`deleted` of cohort members. */
  webhooks?: Pick<WebhookWorkers, 'afterFleetRun' | 'watchFailures' | 'afterCreate' | 'afterDelete'>;
  /** The single-trainee create and delete, which cohort children run as they are. */
  provisioning: ProvisioningProcessorDeps;
  /** A trainee's own expiry change (`set-expiry`), which `PATCH /cohorts/:name` runs per member. */
  setExpiry?: JobProcessor;
  /** Re-creates a trainee's missing expire job when sync meets the trainee; removes it when cleanup deletes them. */
  expiry?: Pick<ExpiryJobs, 'ensure' | 'isMissing' | 'cancel'>;
}

export interface FleetWorkers {
  readonly workers: Worker[];
  /** Starts the workers, then makes the schedulers match the config (one process at a time). */
  start(): Promise<ScheduleCheck[]>;
  /** Closes workers (force: do not wait for active jobs) and queues. */
  close(force?: boolean): Promise<void>;
}

const PENDING = new Set(['waiting', 'delayed', 'active', 'prioritized', 'waiting-children']);

/**
 * The fleet half of the worker: parents of reset/cleanup/sync runs on `fleet`, one child
 * per trainee on `fleet-user` (FLEET_CONCURRENCY at a time), and the schedulers' queue
 * whose firings enqueue runs. Built from the same Redis, ports, secrets and locks as the
 * provisioning worker.
 */
export function createFleetWorkers(config: WorkerEnv, deps: FleetWorkersDeps): FleetWorkers {
  const { redis, logger } = deps;
  const connection = { connection: redis, prefix: config.QUEUE_PREFIX };
  const settings = fleetSettings(config);
  const jobOptions = defaultJobOptions(config);

  const queues = {
    fleet: new Queue(QUEUES.fleet, connection),
    fleetUser: new Queue(QUEUES.fleetUser, connection),
    provisioning: new Queue(QUEUES.provisioning, connection),
    schedules: new Queue(FLEET_SCHEDULES_QUEUE, connection),
  };
  for (const queue of Object.values(queues)) queue.on('error', (error) => logger.warn({ err: error.message, queue: queue.name }, 'queue error'));

  const createPending = async (username: string) => PENDING.has(await queues.provisioning.getJobState(createJobId(username)));
  // The password the trainee's create job issued, while it is still held sealed (PASSWORD_TTL_SECONDS)
  // and the job made this very Keycloak user: sync gives it to a recreated Grafana user.
  const currentPassword = async (user: IdentityUser): Promise<string | undefined> => {
    const job = await queues.provisioning.getJob(createJobId(user.username));
    if (!job || !(await job.isCompleted())) return undefined;
    const result = createJobResult.safeParse(job.returnvalue);
    if (!result.success || !result.data.passwordIssued || result.data.userId !== user.id) return undefined;
    return deps.secrets.get(secretKeyOf(job));
  };
  // The records failed creates left by username (the provisioning service writes them; a new
  // POST may have replaced the job): what sync's rollback and cleanup's deletes remove too.
  const leftAccounts = new LeftGrafanaAccounts(redis, config.QUEUE_PREFIX);
  // The Grafana account the trainee's create made before it failed for good (its rollback may
  // not have reached Grafana): what its checked state records, for sync's rollback to remove.
  const failedCreate = async (user: IdentityUser): Promise<GrafanaRecord | undefined> => {
    const job = await queues.provisioning.getJob(createJobId(user.username));
    if (!job || !(await job.isFailed())) return undefined;
    const state = createJobState.safeParse((job.data as { state?: unknown }).state);
    return state.success ? failedCreateRecord(state.data, user) : undefined;
  };
  const userProcessors = fleetUserProcessors({
    // Purge children share one cluster inventory per run and process (see InventoryCache).
    reset: new ResetUserService(deps.ports, settings, new InventoryCache(() => takeReportedInventory(() => deps.ports.cluster.takeInventory(PURGE_KEEPS), logger))),
    cleanup: new CleanupUserService({ ...deps.ports, namespaceDeleteTimeoutMs: settings.namespaceDeleteTimeoutMs, leftAccounts, ...(settings.guards ? { guards: settings.guards } : {}) }),
    sync: new SyncUserService(deps.ports, settings, { createPending, currentPassword, failedCreate, leftAccounts }),
    secrets: deps.secrets,
    locks: deps.locks,
    log: logger,
    ...(deps.expiry ? { expiry: deps.expiry } : {}),
  });
  const runProcessor = (deps.webhooks?.afterFleetRun ?? ((p: JobProcessor) => p))(fleetRunProcessor({
    identity: deps.ports.identity,
    children: queues.fleetUser,
    // The default options carry the retention (age and count cap), as for every other job.
    childOptions: jobOptions,
    redis,
    prefix: config.QUEUE_PREFIX,
    log: logger,
    cleanupMaxShare: config.CLEANUP_MAX_SHARE_WITHOUT_CONFIRM,
  }));

  const options = (concurrency: number): WorkerOptions => ({
    ...connection,
    concurrency,
    autorun: false,
    lockDuration: config.WORKER_LOCK_DURATION_MS,
    stalledInterval: config.WORKER_STALLED_INTERVAL_MS,
    maxStalledCount: config.WORKER_MAX_STALLED_COUNT,
  });
  const worker = (name: string, processor: JobProcessor, concurrency: number) => {
    const w = new Worker(name, processor, options(concurrency));
    // A job whose lock BullMQ could not renew is cancelled: its attempt stops (run-job.ts).
    stopOnLostJobLocks(w);
    w.on('error', (error) => logger.error({ err: describeError(error), queue: name }, 'worker error'));
    w.on('failed', (job, error) => logger.warn({ jobId: job?.id, job: job?.name, ...(job ? jobLogFields(job) : {}), reason: error.message }, 'job attempt failed'));
    return w;
  };
  const cohortRuns = cohortRunProcessors({ identity: deps.ports.identity, children: queues.fleetUser, childOptions: jobOptions, log: logger });
  const members = cohortMemberProcessors({ ...deps.provisioning, membership: deps.ports, setExpiry: deps.setExpiry });
  // A cohort's members are announced as single creates and deletes are.
  const announced = (name: string, processor: JobProcessor): JobProcessor =>
    !deps.webhooks ? processor : name === 'cohort-member-create' ? deps.webhooks.afterCreate(processor) : name === 'cohort-member-delete' ? deps.webhooks.afterDelete(processor) : processor;
  const cohortMembers = Object.fromEntries(Object.entries(members).map(([name, processor]) => [name, announced(name, processor)]));
  const runs = worker(QUEUES.fleet, dispatch(QUEUES.fleet, { reset: runProcessor, cleanup: runProcessor, sync: runProcessor, ...cohortRuns }), 3);
  deps.webhooks?.watchFailures(runs);
  const users = worker(QUEUES.fleetUser, dispatch(QUEUES.fleetUser, { ...userProcessors, ...cohortMembers }), config.FLEET_CONCURRENCY);
  const schedules = worker(FLEET_SCHEDULES_QUEUE, reportFailures(fleetScheduleProcessor({ fleet: queues.fleet, jobOptions, redis, log: logger })), 1);
  const progress = (job: Job | undefined) => void (job && reportParentProgress(job, queues.fleet, logger));
  users.on('completed', progress);
  users.on('failed', progress);

  const workers = [runs, users, schedules];
  const running: Promise<void>[] = [];
  const scheduleDeps = { queue: queues.schedules, redis, prefix: config.QUEUE_PREFIX, log: logger };
  let recheck: NodeJS.Timeout | undefined;
  return {
    workers,
    async start() {
      for (const w of workers) running.push(w.run().catch((error: unknown) => logger.error({ err: describeError(error), queue: w.name }, 'worker stopped')));
      await Promise.all(workers.map((w) => w.waitUntilReady()));
      const checks = await ensureSchedules(config, scheduleDeps);
      // A scheduler changed in Redis (Bull Board, by hand) is put back, not only at the next start.
      recheck = setInterval(() => {
        recheckSchedules(config, scheduleDeps).catch((error: unknown) => logger.warn({ err: describeError(error) }, 'schedule check failed'));
      }, config.SCHEDULE_CHECK_INTERVAL_SECONDS * 1000);
      recheck.unref();
      logger.info({ concurrency: config.FLEET_CONCURRENCY, schedules: checks }, 'fleet workers started');
      return checks;
    },
    async close(force = false) {
      clearInterval(recheck);
      await Promise.all(workers.map((w) => w.close(force)));
      await Promise.allSettled(running);
      await Promise.allSettled(Object.values(queues).map((q) => q.close()));
    },
  };
}
