import { Worker } from 'bullmq';
import { createAdapters } from '@kup/adapters';
import {
  ProvisioningService,
  QUEUES,
  assertTemplatesUsable,
  Sealer,
  SecretStore,
  UserLock,
  createRedisClient,
  createLogger,
  describeError,
  identityGuards,
  jobLogFields,
  LeftGrafanaAccounts,
  oidcIssuer,
  playgroundSettings,
  type ClusterGateway,
  type GrafanaGateway,
  type IdentityProvider,
  type Logger,
  type WorkerEnv,
} from '@kup/core';
import { cohortAnswerers } from './queries/cohort-answers.js';
import { createFleetWorkers, type FleetWorkers } from './fleet-workers.js';
import { createWorkerHealth, type WorkerHealth } from './worker-metrics.js';
import { dispatch } from './job-registry.js';
import { createProcessor } from './processors/create.processor.js';
import { BULLMQ_STALL_MARGIN, stopOnLostJobLocks } from './processors/run-job.js';
import { deleteProcessor } from './processors/delete.processor.js';
import { checkTraineeClusterRole } from './trainee-role-check.js';
import { createWebhookWorkers, type WebhookWorkers } from './webhooks.js';
import { createQueryWorker } from './queries/query-worker.js';
import { createTraineeParts } from './trainees/index.js';

export interface WorkerPorts {
  identity: IdentityProvider;
  cluster: ClusterGateway;
  grafana: GrafanaGateway;
  close?: () => Promise<void>;
}

/** What tests (or another composition) may swap; everything else comes from `config`. */
export interface WorkerAppDeps {
  logger?: Logger;
  /** Upstream ports; default: the adapters built from `config`. */
  ports?: WorkerPorts;
  /** PEM of a private CA for Keycloak and Grafana, when NODE_EXTRA_CA_CERTS was not set at start. */
  caFile?: string;
}

export interface WorkerApp {
  readonly worker: Worker;
  /** Reset, cleanup and sync runs, their per-trainee children and the schedulers. */
  readonly fleet: FleetWorkers;
  /** Webhook deliveries, the expiring scan, and the emitter the event points use. */
  readonly webhooks: WebhookWorkers;
  /** `/healthz`, `/readyz` and `/metrics` on WORKER_HEALTH_PORT. */
  readonly health: WorkerHealth;
  readonly logger: Logger;
  start(): Promise<void>;
  /** Lets active jobs finish for up to `timeoutMs`, then stops; an interrupted job is run again by another worker. */
  close(timeoutMs?: number): Promise<void>;
}

/** The worker's composition: Redis, the upstream ports, the service, the BullMQ worker. */
export function createWorkerApp(config: WorkerEnv, deps: WorkerAppDeps = {}): WorkerApp {
  const logger = deps.logger ?? createLogger({ name: 'worker', level: config.LOG_LEVEL });
  // BullMQ workers block on Redis: they must wait for it rather than fail a command.
  const redis = createRedisClient(config, { maxRetriesPerRequest: null });
  redis.on('error', (error) => logger.warn({ err: error.message }, 'redis error'));

  const ports = deps.ports ?? createAdapters(config, { caFile: deps.caFile });
  const settings = playgroundSettings(config, oidcIssuer(config));
  const service = new ProvisioningService({
    // Beside the queues (fleet-workers.ts reads the same for sync): it outlives a replaced job.
    leftAccounts: new LeftGrafanaAccounts(redis, config.QUEUE_PREFIX),
    identity: ports.identity,
    cluster: ports.cluster,
    grafana: ports.grafana,
    settings,
    grafanaOrgId: config.GRAFANA_ORG_ID,
    grafanaRole: config.GRAFANA_ROLE,
    defaultExpiryDays: config.DEFAULT_EXPIRY_DAYS,
    namespaceDeleteTimeoutMs: config.NAMESPACE_DELETE_TIMEOUT_SECONDS * 1000,
    guards: identityGuards(config),
  });
  const secrets = new SecretStore(redis, Sealer.fromEncodedKey(config.RESULT_ENCRYPTION_KEY), config.QUEUE_PREFIX, config.PASSWORD_TTL_SECONDS);
  const locks = new UserLock(redis, config.QUEUE_PREFIX);
  const trainees = createTraineeParts(config, { redis, ports, service, secrets, locks, logger });
  const queries = createQueryWorker(config, { redis, logger, answerers: [...trainees.answerers, ...cohortAnswerers(ports)] });
  const processorDeps = { service, secrets, locks, log: logger, stallLimit: config.WORKER_MAX_STALLED_COUNT, expiry: trainees.scheduler };
  const webhooks = createWebhookWorkers(config, { redis, identity: ports.identity, logger, caFile: deps.caFile });
  const fleet = createFleetWorkers(config, {
    redis,
    ports,
    secrets,
    locks,
    logger,
    expiry: trainees.scheduler,
    webhooks,
    provisioning: processorDeps,
    setExpiry: trainees.processors['set-expiry'],
  });

  const worker = new Worker(
    QUEUES.provisioning,
    dispatch(QUEUES.provisioning, {
      create: webhooks.afterCreate(createProcessor(processorDeps)),
      delete: webhooks.afterDelete(deleteProcessor(processorDeps)),
      ...trainees.processors,
      expire: webhooks.afterExpire(trainees.processors.expire),
    }),
    {
      connection: redis,
      prefix: config.QUEUE_PREFIX,
      concurrency: config.WORKER_CONCURRENCY,
      autorun: false,
      lockDuration: config.WORKER_LOCK_DURATION_MS,
      stalledInterval: config.WORKER_STALLED_INTERVAL_MS,
      // A job may be interrupted (its worker killed) WORKER_MAX_STALLED_COUNT times; the
      // next run fails it through its clean-up (runJob), which BullMQ's own limit would skip.
      maxStalledCount: config.WORKER_MAX_STALLED_COUNT + BULLMQ_STALL_MARGIN,
    },
  );
  worker.on('error', (error) => logger.error({ err: describeError(error) }, 'worker error'));
  // The job's request id on these lines too (they are logged outside the job's own logger).
  worker.on('completed', (job) => logger.info({ jobId: job.id, job: job.name, ...jobLogFields(job) }, 'job completed'));
  worker.on('failed', (job, error) => logger.warn({ jobId: job?.id, job: job?.name, ...(job ? jobLogFields(job) : {}), reason: error.message }, 'job attempt failed'));
  worker.on('stalled', (jobId) => logger.warn({ jobId }, 'job stalled: it will run again'));
  stopOnLostJobLocks(worker);
  webhooks.watchFailures(worker);

  const health = createWorkerHealth(config, { redis, workers: [worker, ...fleet.workers, queries.worker, ...(webhooks.worker ? [webhooks.worker] : [])], logger });

  let running: Promise<void> | undefined;
  return {
    worker,
    fleet,
    webhooks,
    health,
    logger,
    async start() {
      // Unusable templates (PLAYGROUND_TEMPLATES) stop the worker before it takes a job, naming file and line.
      try {
        await assertTemplatesUsable(ports.cluster, settings);
      } catch (error) {
        await ports.close?.();
        redis.disconnect();
        throw error;
      }
      await health.start();
      running = worker.run().catch((error: unknown) => logger.error({ err: describeError(error) }, 'worker stopped'));
      await worker.waitUntilReady();
      await fleet.start();
      await queries.start();
      await webhooks.start();
      logger.info({ queue: QUEUES.provisioning, prefix: config.QUEUE_PREFIX, concurrency: config.WORKER_CONCURRENCY }, 'worker started');
      void checkTraineeClusterRole(ports.cluster, config.TRAINEE_CLUSTER_ROLE, logger); // logs only, never blocks the start
    },
    async close(timeoutMs = config.WORKER_SHUTDOWN_TIMEOUT_SECONDS * 1000) {
      health.markClosing();
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), timeoutMs)));
      const outcome = await Promise.race([Promise.all([worker.close(), fleet.close(), queries.close(), webhooks.close()]).then(() => 'closed' as const), deadline]);
      clearTimeout(timer);
      if (outcome === 'timeout') {
        logger.warn({ timeoutMs }, 'active jobs did not finish in time: stopping anyway (they will run again)');
        await Promise.all([worker.close(true), fleet.close(true), queries.close(true), webhooks.close(true)]);
      }
      await running;
      await trainees.close();
      await health.close();
      await ports.close?.();
      await redis.quit().catch(() => redis.disconnect());
      logger.info('worker closed');
    },
  };
}
