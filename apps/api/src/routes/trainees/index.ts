import type { Queue } from 'bullmq';
import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { JOBS, resetPasswordJobId, setExpiryJobId, setExpiryJobResult, traineeListQuery, traineeShowQuery, type ResetPasswordJobData, type SetExpiryJobData } from '@kup/core';
import { commonErrors, bodyErrors, errorBody } from '../../http/schemas.js';
import type { JobSubmitter } from '../../jobs/job-submitter.js';
import type { WaitIfAskedDeps } from '../../jobs/wait-if-asked.js';
import type { RedisGuard } from '../../jobs/redis-guard.js';
import type { WorkerQueries } from '../../queries/worker-queries.js';
import { passwordResetResultView } from '../../jobs/job-view.js';
import { accepted, jobFailed, preferHeaders } from '../provisioner/schemas.js';
import type { CursorCodec } from './cursor.js';
import { recentJobs } from './recent-jobs.js';
import { changeProfile } from './profile-change.js';
import { submitTraineeChange } from './trainee-change.js';
import { expiryChanged, profileChanged, listQuerystring, notFoundBody, passwordReset, passwordResetBody, patchBody, traineeNotFound, traineePage, traineeView, usernameParams } from './schemas.js';

export interface TraineeRoutesOptions extends WaitIfAskedDeps {
  queries: Pick<WorkerQueries, 'ask'>;
  submitter: Pick<JobSubmitter, 'submit'>;
  /** The provisioning queue: the trainee's jobs, by their fixed ids. */
  provisioning: Pick<Queue, 'getJob'>;
  guard: Pick<RedisGuard, 'run'>;
  cursors: CursorCodec;
  /** The quota profile names a PATCH may name. */
  quotaProfiles?: readonly string[];
}

/**
 * The trainee API. Reads are queries the worker answers (the API never calls Keycloak,
 * Kubernetes or Grafana); a change of expiry or profile, and a new password, are jobs. A username the provisioner does not
 * manage — a Keycloak user made by someone else, or nobody — is the same 404 either way.
 */
export const traineeRoutes: FastifyPluginAsyncZod<TraineeRoutesOptions> = async (app, options) => {
  const { queries, cursors } = options;
  const readErrors = { ...commonErrors, 502: errorBody };

  app.get(
    '/trainees',
    {
      schema: {
        tags: ['trainees'],
        summary: 'List the trainees the provisioner manages, a page at a time (Keycloak is paged, never read whole)',
        querystring: listQuerystring,
        response: { 200: traineePage, ...readErrors },
      },
    },
    async (request, reply) => {
      const { cursor, limit, ...filters } = request.query;
      // A first page lets the worker choose the walk; the cursor keeps it (trainee-view.ts).
      const position = cursor ? cursors.decode(cursor, filters) : { offset: 0, walk: 'choose' as const };
      const page = await queries.ask(traineeListQuery, { ...filters, limit, ...position }, abortOnClose(reply.raw, options.shutdown));
      reply.header('cache-control', 'no-store');
      const next = page.nextOffset === null ? null : { offset: page.nextOffset, walk: page.walk ?? 'managed' };
      return { items: page.items, nextCursor: next && cursors.encode(next, filters) };
    },
  );

  app.get(
    '/trainees/:username',
    {
      schema: {
        tags: ['trainees'],
        summary: 'One trainee\'s live state in Keycloak, Kubernetes (namespace, fittings and their drift from the plan) and Grafana, and their last jobs',
        params: usernameParams,
        response: { 200: traineeView, 404: traineeNotFound, ...readErrors },
      },
    },
    async (request, reply) => {
      const { username } = request.params;
      const answer = await queries.ask(traineeShowQuery, { username }, abortOnClose(reply.raw, options.shutdown));
      if (!answer.managed) return reply.code(404).send(notFoundBody(username));
      const jobs = await options.guard.run(() => recentJobs(options.provisioning, username));
      reply.header('cache-control', 'no-store');
      return { ...answer.trainee, jobs };
    },
  );

  app.patch(
    '/trainees/:username',
    {
      schema: {
        tags: ['trainees'],
        summary: 'Move a trainee\'s expiry (earlier or later) in Keycloak, on the namespace and in its expiry job; or move them to another quota profile',
        params: usernameParams,
        headers: preferHeaders,
        body: patchBody,
        response: { 200: z.union([expiryChanged, profileChanged]), 202: accepted, 404: traineeNotFound, 409: jobFailed, 502: jobFailed, ...bodyErrors },
      },
    },
    async (request, reply) => {
      const { username } = request.params;
      const { expiresAt, profile } = request.body;
      if (profile !== undefined) return changeProfile(options, request, reply, username, profile);
      const data: SetExpiryJobData = { username, expiresAt: expiresAt as string };
      return submitTraineeChange(options, request, reply, {
        name: JOBS.setExpiry,
        jobId: setExpiryJobId(username),
        data,
        sameWhen: 'expiresAt',
        what: 'expiry change',
        pendingCode: 'EXPIRY_CHANGE_PENDING',
        result: setExpiryJobResult,
      });
    },
  );

  app.post(
    '/trainees/:username/password',
    {
      schema: {
        tags: ['trainees'],
        summary: 'Replace a trainee\'s password (lost or leaked) with a new one, in Keycloak and on their Grafana account; GET /jobs/:id (or this answer, with Prefer: wait) hands it out until PASSWORD_TTL_SECONDS',
        params: usernameParams,
        headers: preferHeaders,
        body: passwordResetBody,
        response: { 200: passwordReset, 202: accepted, 404: traineeNotFound, 409: jobFailed, 502: jobFailed, ...bodyErrors },
      },
    },
    async (request, reply) => {
      const { username } = request.params;
      // The waited-for answer carries the new password.
      reply.header('cache-control', 'no-store');
      const data: ResetPasswordJobData = { username };
      return submitTraineeChange(options, request, reply, {
        name: JOBS.resetPassword,
        jobId: resetPasswordJobId(username),
        data,
        // Any reset pending is the same one: a second POST follows it and gets its password.
        sameWhen: 'username',
        what: 'password reset',
        pendingCode: 'PASSWORD_RESET_PENDING',
        result: passwordResetResultView,
      });
    },
  );
};

/** Stops waiting for the worker when the caller goes away. */
function abortOnClose(raw: { once(event: 'close', listener: () => void): unknown }, shutdown: AbortSignal): AbortSignal {
  const controller = new AbortController();
  raw.once('close', () => controller.abort());
  return AbortSignal.any([controller.signal, shutdown]);
}
