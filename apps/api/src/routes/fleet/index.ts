import type { FastifyReply, FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { JobsOptions, Queue } from 'bullmq';
import { enqueueFleetRun, QUEUES, statusOfFailure, type FleetKind, type FleetRequest, type MutexRedis } from '@kup/core';
import { commonErrors } from '../../http/schemas.js';
import type { JobReader } from '../../jobs/job-reader.js';
import type { JobWaiter } from '../../jobs/job-waiter.js';
import { waitIfAsked } from '../../jobs/wait-if-asked.js';
import type { RedisGuard } from '../../jobs/redis-guard.js';
import { preferHeaders } from '../provisioner/schemas.js';
import { notFoundMessage, statusUrlOf } from '../provisioner/index.js';
import { cleanupBody, cleanupDone, fleetAccepted, fleetFailed, resetBody, resetDone, syncBody, syncDone } from './schemas.js';

export interface FleetRoutesOptions {
  /** The `fleet` queue (parents of runs). */
  fleet: Queue;
  /** For the replace lock (see enqueueUnique). */
  redis: MutexRedis;
  guard: Pick<RedisGuard, 'run'>;
  reader: Pick<JobReader, 'view'>;
  waiter: Pick<JobWaiter, 'waitForEnd'>;
  jobOptions: JobsOptions;
  maxWaitSeconds: number;
  defaultWaitSeconds?: number | undefined;
  /** Aborts when the server stops: waiting requests answer 202 at once. */
  shutdown: AbortSignal;
}

/**
 * `POST /reset`, `POST /cleanup`, `POST /sync`: enqueue a fleet run (one per id at a time: a
 * pending one is answered when it was asked the same, else the request is a 409
 * `DIFFERENT_RUN_PENDING`, see the error handler) and answer 202, or with `Prefer: wait` the old
 * synchronous statistics. A single-user run for a user who is not provisioned fails in
 * the worker (the API never calls Keycloak): with `Prefer: wait` that is a 404.
 */
export const fleetRoutes: FastifyPluginAsyncZod<FleetRoutesOptions> = async (app, options) => {
  const { fleet, guard, jobOptions, redis } = options;

  async function handle(kind: FleetKind, body: FleetRequest | null | undefined, request: FastifyRequest, reply: FastifyReply) {
    const { job, created } = await guard.run(() => enqueueFleetRun(fleet, kind, body ?? {}, { origin: 'api', jobOptions, redis }));
    const jobId = job.id ?? kind;
    request.log.info({ jobId, kind, created }, created ? 'fleet run enqueued' : 'fleet run already pending');
    const view = await waitIfAsked(options, request, reply, QUEUES.fleet, job);
    if (view?.state === 'completed' && view.result) return reply.code(200).send({ ...(view.result as object), jobId } as never);
    if (view?.state === 'failed' && view.error) {
      const status = statusOfFailure(view.error.code);
      // The old service's 404, word for word, for a single-user run of someone not provisioned.
      const username = body && 'username' in body ? body.username : undefined;
      const message = status === 404 && username ? notFoundMessage(username) : view.error.message;
      return reply.code(status).send({ message, code: view.error.code, jobId });
    }
    const statusUrl = statusUrlOf(jobId);
    return reply.code(202).header('location', statusUrl).send({ jobId, statusUrl, alreadyPending: !created });
  }

  const responses = { 202: fleetAccepted, 404: fleetFailed, 409: fleetFailed, 502: fleetFailed, ...commonErrors };

  app.post(
    '/reset',
    {
      schema: {
        tags: ['fleet'],
        summary: 'Reset every provisioned trainee\'s namespace (or one: `username`); mode `recreate` (default) or `purge`',
        headers: preferHeaders,
        body: resetBody,
        response: { 200: resetDone, ...responses },
      },
    },
    (request, reply) => handle('reset', request.body, request, reply),
  );

  app.post(
    '/cleanup',
    {
      schema: {
        tags: ['fleet'],
        summary: 'Delete trainees created more than `maxAgeDays` (365) ago or past their expiry; `dryRun` only lists them',
        headers: preferHeaders,
        body: cleanupBody,
        response: { 200: cleanupDone, ...responses },
      },
    },
    (request, reply) => handle('cleanup', request.body, request, reply),
  );

  app.post(
    '/sync',
    {
      schema: {
        tags: ['fleet'],
        summary: 'Repair drift: missing namespace, RBAC, quota, limits, policy or Grafana user; finish or roll back half-made users',
        headers: preferHeaders,
        body: syncBody,
        response: { 200: syncDone, ...responses },
      },
    },
    (request, reply) => handle('sync', request.body, request, reply),
  );
};
