import type { Queue } from 'bullmq';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { JOBS, QUEUES, setExpiryJobId, setExpiryJobResult, statusOfFailure, traineeListQuery, traineeShowQuery, type SetExpiryJobData } from '@kup/core';
import { commonErrors, bodyErrors, errorBody } from '../../http/schemas.js';
import { SubmissionRefused } from '../../jobs/create-policy.js';
import type { JobSubmitter } from '../../jobs/job-submitter.js';
import { waitIfAsked, type WaitIfAskedDeps } from '../../jobs/wait-if-asked.js';
import type { RedisGuard } from '../../jobs/redis-guard.js';
import type { WorkerQueries } from '../../queries/worker-queries.js';
import { accepted, jobFailed, preferHeaders } from '../provisioner/schemas.js';
import { statusUrlOf } from '../provisioner/index.js';
import type { CursorCodec } from './cursor.js';
import { recentJobs } from './recent-jobs.js';
import { expiryChanged, listQuerystring, notFoundBody, patchBody, traineeNotFound, traineePage, traineeView, usernameParams } from './schemas.js';

export interface TraineeRoutesOptions extends WaitIfAskedDeps {
  queries: Pick<WorkerQueries, 'ask'>;
  submitter: Pick<JobSubmitter, 'submit'>;
  /** The provisioning queue: the trainee's jobs, by their fixed ids. */
  provisioning: Pick<Queue, 'getJob'>;
  guard: Pick<RedisGuard, 'run'>;
  cursors: CursorCodec;
}

/**
 * The trainee API. Reads are queries the worker answers (the API never calls Keycloak,
 * Kubernetes or Grafana); a change of expiry is a job. A username the provisioner does not
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
      const offset = cursor ? cursors.decode(cursor, filters) : 0;
      const page = await queries.ask(traineeListQuery, { ...filters, limit, offset }, abortOnClose(reply.raw, options.shutdown));
      reply.header('cache-control', 'no-store');
      return { items: page.items, nextCursor: page.nextOffset === null ? null : cursors.encode(page.nextOffset, filters) };
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
        summary: 'Move a trainee\'s expiry (earlier or later) in Keycloak, on the namespace and in its expiry job',
        params: usernameParams,
        headers: preferHeaders,
        body: patchBody,
        response: { 200: expiryChanged, 202: accepted, 404: traineeNotFound, 409: jobFailed, 502: jobFailed, ...bodyErrors },
      },
    },
    async (request, reply) => {
      const { username } = request.params;
      const data: SetExpiryJobData = { username, expiresAt: request.body.expiresAt };
      let submission: Awaited<ReturnType<typeof options.submitter.submit>>;
      try {
        submission = await options.submitter.submit(QUEUES.provisioning, JOBS.setExpiry, setExpiryJobId(username), data, async (existing, state) => {
          if (['completed', 'failed', 'unknown'].includes(state)) return 'replace';
          if ((existing.data as { expiresAt?: unknown }).expiresAt === data.expiresAt) return 'answer';
          throw new SubmissionRefused(409, { message: `another expiry change for "${username}" is still pending: try again when it has ended`, code: 'EXPIRY_CHANGE_PENDING', ...(existing.id ? { jobId: existing.id } : {}) });
        });
      } catch (error) {
        if (error instanceof SubmissionRefused) return reply.code(error.statusCode).send(error.body);
        throw error;
      }
      const { job } = submission;
      const jobId = job.id ?? setExpiryJobId(username);
      const view = await waitIfAsked(options, request, reply, QUEUES.provisioning, job);
      if (view?.state === 'completed') {
        const result = setExpiryJobResult.safeParse(view.result);
        if (result.success) return reply.code(200).send({ ...result.data, jobId });
      }
      if (view?.state === 'failed' && view.error) {
        const status = statusOfFailure(view.error.code);
        if (status === 404) return reply.code(404).send({ ...notFoundBody(username), jobId });
        return reply.code(status).send({ message: view.error.message, code: view.error.code, jobId });
      }
      const statusUrl = statusUrlOf(jobId);
      return reply.code(202).header('location', statusUrl).send({ jobId, statusUrl, username });
    },
  );
};

/** Stops waiting for the worker when the caller goes away. */
function abortOnClose(raw: { once(event: 'close', listener: () => void): unknown }, shutdown: AbortSignal): AbortSignal {
  const controller = new AbortController();
  raw.once('close', () => controller.abort());
  return AbortSignal.any([controller.signal, shutdown]);
}
