import { randomUUID } from 'node:crypto';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import { Queue } from 'bullmq';
import { DEFAULT_RESERVED_NAMESPACES, MIN_API_TOKEN_LENGTH, defaultJobOptions, quotaProfileNames, FLEET_SCHEDULES_QUEUE, WEBHOOKS_QUEUE, buildWelcome, welcomeSettingsFrom, type ApiEnv, type ClusterAccessEnv, type CreateJobResult } from '@kup/core';
import type { ApiDeps } from './deps.js';
import { JobReader } from './jobs/job-reader.js';
import { JobSubmitter } from './jobs/job-submitter.js';
import { JobWaiter } from './jobs/job-waiter.js';
import { WorkerQueries } from './queries/worker-queries.js';
import { CursorCodec } from './routes/trainees/cursor.js';
import { traineeRoutes } from './routes/trainees/index.js';
import { handoutRoutes } from './routes/trainees/handout.js';
import { RedisGuard } from './jobs/redis-guard.js';
import { registerAuth } from './plugins/auth.js';
import { FailedAuthLimiter } from './plugins/auth-rate-limit.js';
import { BULL_BOARD_PATH, registerBullBoard } from './plugins/bull-board.js';
import { DOCS_PREFIX, registerDocs } from './plugins/docs.js';
import { registerErrorHandler } from './plugins/error-handler.js';
import { registerJsonBody } from './plugins/json-body.js';
import { registerMetrics } from './plugins/metrics.js';
import { lazyRequestLogger } from './plugins/request-logger.js';
import { registerTracing } from './plugins/tracing.js';
import { healthRoutes } from './routes/health/index.js';
import { jobRoutes } from './routes/jobs/index.js';
import { fleetRoutes } from './routes/fleet/index.js';
import { cohortRoutes } from './routes/cohorts/index.js';
import { provisionerRoutes } from './routes/provisioner/index.js';
import { scheduleRoutes } from './routes/schedules/index.js';

export type ApiConfig = Pick<
  ApiEnv,
  'API_TOKENS' | 'BODY_LIMIT_BYTES' | 'MAX_WAIT_SECONDS' | 'QUEUE_PREFIX' | 'JOB_ATTEMPTS' | 'JOB_BACKOFF_MS'
> &
  Partial<Pick<ApiEnv, 'METRICS_PUBLIC' | 'TRUST_PROXY' | 'BULL_BOARD_ADMIN_TOKENS' | 'AUTH_FAILURE_LIMIT' | 'AUTH_FAILURE_WINDOW_SECONDS'>> &
  // Names and identities; the default list when absent.
  Partial<Pick<ApiEnv, 'RESERVED_NAMESPACES' | 'COHORT_MAX_TRAINEES'>> &
  // Callers that send no Prefer header and expect the final answer; off when absent.
  Partial<Pick<ApiEnv, 'DEFAULT_PREFER_WAIT_SECONDS'>> &
  // Quota profiles a create may name; the built-in ones when absent.
  Partial<Pick<ApiEnv, 'QUOTA_PROFILES_FILE' | 'DEFAULT_QUOTA_PROFILE'>> &
  // Reads the worker answers (default 10 s), and the key the trainee list's cursors are signed with.
  Partial<Pick<ApiEnv, 'QUERY_TIMEOUT_SECONDS' | 'RESULT_ENCRYPTION_KEY'>> &
  // What kubeconfigs and welcomes say (cluster-access.ts); none: no kubeconfig is handed out.
  Partial<ClusterAccessEnv>;

const REQUEST_ID = /^[\w.-]{1,64}$/;
const READY_PING_TIMEOUT_MS = 1_000;
const QUIET_ROUTES = new Set(['/healthz', '/readyz', '/metrics']);

/**
 * Builds the API: a Fastify instance composed of plugins, from the configuration and the
 * outside-world dependencies. It does not listen and does not own `deps` (the caller
 * closes them after the app).
 */
export async function buildApp(config: ApiConfig, deps: ApiDeps): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: deps.logger as FastifyBaseLogger,
    bodyLimit: config.BODY_LIMIT_BYTES,
    trustProxy: config.TRUST_PROXY ?? false,
    requestIdHeader: false,
    // One access line per request (the onResponse hook below) instead of Fastify's two.
    logController: new LogController({ disableRequestLogging: true }),
    childLoggerFactory: lazyRequestLogger,
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    },
  });
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  // Hooks that never wait take `done` rather than being async: no promise per request each.
  app.addHook('onRequest', (request, reply, done) => {
    reply.header('x-request-id', request.id);
    done();
  });
  app.addHook('onResponse', (request, reply, done) => {
    // Probes and scrapes that succeed would drown the log: debug level for them.
    const quiet = reply.statusCode < 400 && QUIET_ROUTES.has(request.routeOptions.url ?? '');
    // The root logger with the request id as a field: the line a child would write, without making one (request-logger.ts).
    const line = { reqId: request.id, method: request.method, url: request.url, status: reply.statusCode, ms: Math.round(reply.elapsedTime) };
    if (quiet) app.log.debug(line, 'request');
    else app.log.info(line, 'request');
    done();
  });

  registerJsonBody(app);
  registerErrorHandler(app);
  registerTracing(app);
  const failures = new FailedAuthLimiter(deps.redis, {
    prefix: config.QUEUE_PREFIX,
    maxFailures: config.AUTH_FAILURE_LIMIT ?? 20,
    timeWindowMs: (config.AUTH_FAILURE_WINDOW_SECONDS ?? 60) * 1000,
  });
  const adminTokens = config.BULL_BOARD_ADMIN_TOKENS ?? [];
  // A guessable token (only the old VERIFICATION_TOKEN may be one) locks out a client over the failure limit.
  const lockOutLimited = config.API_TOKENS.some((token) => token.length < MIN_API_TOKEN_LENGTH);
  registerAuth(app, { tokens: config.API_TOKENS, adminTokens, adminPrefix: BULL_BOARD_PATH, publicPrefixes: [DOCS_PREFIX], failures, lockOutLimited });
  registerMetrics(app, { public: config.METRICS_PUBLIC ?? false });
  await registerDocs(app);

  const guard = new RedisGuard(deps.redis);
  const access = { ...config, KUBECONFIG_CREDENTIAL_PLUGIN: config.KUBECONFIG_CREDENTIAL_PLUGIN ?? 'provisioner', KEYCLOAK_LOGIN_CLIENT_ID: config.KEYCLOAK_LOGIN_CLIENT_ID ?? 'kubernetes' } as const;
  const welcome = (result: CreateJobResult, data: { email?: string; expiresAt?: string }) =>
    buildWelcome(welcomeSettingsFrom(access), { username: result.username, namespace: result.namespace, expiresAt: data.expiresAt ?? null, email: result.email ?? data.email ?? null }).json;
  const reader = new JobReader({ queues: deps.queues, secrets: deps.secrets, guard, logger: deps.logger, welcome });
  const submitter = new JobSubmitter({
    queues: deps.queues,
    redis: deps.redis,
    guard,
    secrets: deps.secrets,
    jobOptions: defaultJobOptions(config),
    prefix: config.QUEUE_PREFIX,
  });
  const waiter = new JobWaiter({ events: deps.events, isFinished: (queue, id) => reader.isFinished(queue, id) });

  await app.register(healthRoutes, {
    redisReady: () =>
      guard
        .run(() => deps.redis.ping(), READY_PING_TIMEOUT_MS)
        .then((pong) => pong === 'PONG')
        .catch(() => false),
  });
  const shutdown = new AbortController();
  app.addHook('preClose', async () => shutdown.abort());
  const waitSettings = { maxWaitSeconds: config.MAX_WAIT_SECONDS, defaultWaitSeconds: config.DEFAULT_PREFER_WAIT_SECONDS };
  const holders = { getJob: async (id: string) => deps.queues.provisioning.getJob(id), passwordReadable: (key: string) => deps.secrets.exists(key) };
  const quotaProfiles = quotaProfileNames({ QUOTA_PROFILES_FILE: config.QUOTA_PROFILES_FILE });
  await app.register(provisionerRoutes, {
    submitter, reader, waiter, ...waitSettings, shutdown: shutdown.signal,
    holders, reservedNamespaces: config.RESERVED_NAMESPACES ?? DEFAULT_RESERVED_NAMESPACES,
    quotaProfiles,
  });
  await app.register(jobRoutes, { reader });
  const queries = new WorkerQueries({ queue: deps.queues.queries, waiter, guard, timeoutSeconds: config.QUERY_TIMEOUT_SECONDS ?? 10 });
  await app.register(traineeRoutes, {
    queries, submitter, reader, waiter, ...waitSettings, shutdown: shutdown.signal,
    provisioning: deps.queues.provisioning, guard, cursors: new CursorCodec(config.RESULT_ENCRYPTION_KEY),
    quotaProfiles,
  });
  await app.register(handoutRoutes, { queries, access, shutdown: shutdown.signal });
  const fleetOptions = { guard, reader, waiter, ...waitSettings, shutdown: shutdown.signal };
  await app.register(fleetRoutes, { ...fleetOptions, fleet: deps.queues.fleet, redis: deps.redis, jobOptions: defaultJobOptions(config) });
  await app.register(cohortRoutes, {
    queries, shutdown: shutdown.signal,
    fleet: deps.queues.fleet, fleetUser: deps.queues['fleet-user'], redis: deps.redis, secrets: deps.secrets, guard,
    jobOptions: defaultJobOptions(config), queuePrefix: config.QUEUE_PREFIX, maxTrainees: config.COHORT_MAX_TRAINEES ?? 500,
    reservedNamespaces: config.RESERVED_NAMESPACES ?? DEFAULT_RESERVED_NAMESPACES, bodyLimit: config.BODY_LIMIT_BYTES,
    quotaProfiles,
  });
  const schedules = new Queue(FLEET_SCHEDULES_QUEUE, { connection: deps.redis, prefix: config.QUEUE_PREFIX });
  schedules.on('error', (error) => deps.logger.warn({ err: error.message }, 'schedules queue error'));
  app.addHook('onClose', async () => schedules.close());
  await app.register(scheduleRoutes, { schedules, guard });
  // Webhook deliveries (and the ones that gave up) are looked at here, not through /jobs.
  const webhooks = new Queue(WEBHOOKS_QUEUE, { connection: deps.redis, prefix: config.QUEUE_PREFIX });
  webhooks.on('error', (error) => deps.logger.warn({ err: error.message }, 'webhooks queue error'));
  app.addHook('onClose', async () => webhooks.close());
  await registerBullBoard(app, [...Object.values(deps.queues), schedules, webhooks], { writable: adminTokens.length > 0, redisReady: () => guard.ready });
  return app;
}
