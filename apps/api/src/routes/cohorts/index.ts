import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { JobsOptions, Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { BUILT_IN_PROFILE_NAMES, enqueueCohortCreate, enqueueCohortDelete, enqueueCohortExpiry, planCohort, unknownProfileMessage, type SecretStore } from '@kup/core';
import { bodyErrors, commonErrors, errorBody } from '../../http/schemas.js';
import { HttpError } from '../../http/http-error.js';
import type { RedisGuard } from '../../jobs/redis-guard.js';
import { statusUrlOf } from '../provisioner/index.js';
import { csvProblems, registerCsvBody } from './csv-body.js';
import { readCohortCredentials } from './credentials.js';
import { cohortReadRoutes, type CohortReadsOptions } from './reads.js';
import { cohortAccepted, cohortBody, cohortParams, cohortPatchBody, cohortQuery, cohortRunPending, credentialsCsv, credentialsGone, rowsRefused } from './schemas.js';

export interface CohortRoutesOptions extends CohortReadsOptions {
  fleet: Queue;
  fleetUser: Queue;
  redis: Redis;
  secrets: Pick<SecretStore, 'get' | 'remove'>;
  guard: Pick<RedisGuard, 'run'>;
  jobOptions: JobsOptions;
  /** QUEUE_PREFIX (not `prefix`: Fastify reads that as the routes' path prefix). */
  queuePrefix: string;
  maxTrainees: number;
  reservedNamespaces: readonly string[];
  /** The quota profile names a cohort may ask for (built-in and QUOTA_PROFILES_FILE's), as POST /provisioner checks them. */
  quotaProfiles?: readonly string[];
  /** BODY_LIMIT_BYTES: a cohort's body may be larger, up to what `maxTrainees` rows need. */
  bodyLimit: number;
}

/** Room for one row (an email and a full name at their longest, with quoting). */
const BYTES_PER_ROW = 600;

/**
 * Cohorts: `POST /cohorts` (JSON or CSV), `DELETE /cohorts/:name` and
 * `GET /cohorts/:name/credentials`. Every row is checked before anything is enqueued;
 * the worker does the rest as one flow per operation (see cohort/contract.ts).
 */
export const cohortRoutes: FastifyPluginAsyncZod<CohortRoutesOptions> = async (app, options) => {
  const { fleet, guard, jobOptions, redis } = options;
  registerCsvBody(app);
  await app.register(cohortReadRoutes, { queries: options.queries, shutdown: options.shutdown });

  app.post(
    '/cohorts',
    {
      bodyLimit: Math.max(options.bodyLimit, options.maxTrainees * BYTES_PER_ROW),
      schema: {
        tags: ['cohorts'],
        summary: 'Create a cohort: one trainee per item (JSON) or per CSV row (`text/csv`, header `email,full_name`; name, expiresAt and profile as query parameters)',
        consumes: ['application/json', 'text/csv'],
        querystring: cohortQuery,
        body: cohortBody,
        response: { 202: cohortAccepted, ...bodyErrors, 400: rowsRefused, 409: cohortRunPending },
      },
    },
    async (request, reply) => {
      const { name, expiresAt, profile, trainees } = request.body;
      if (trainees.length > options.maxTrainees) {
        throw new HttpError(400, `${trainees.length} trainees: at most ${options.maxTrainees} per cohort request (COHORT_MAX_TRAINEES)`, 'COHORT_TOO_LARGE');
      }
      // Refused here, not by the worker: there every member's create would fail, after the group was made.
      const profiles = options.quotaProfiles ?? BUILT_IN_PROFILE_NAMES;
      if (profile !== undefined && !profiles.includes(profile)) throw new HttpError(400, unknownProfileMessage(profile, profiles), 'UNKNOWN_PROFILE');
      const { members, problems } = planCohort(trainees, { reserved: options.reservedNamespaces, expiresAt });
      const rows = [...(csvProblems.get(request) ?? []), ...problems].sort((a, b) => a.row - b.row);
      if (rows.length > 0) {
        return reply.code(400).send({ message: `${rows.length} invalid row${rows.length > 1 ? 's' : ''}: nothing was enqueued`, code: 'INVALID_ROWS', rows });
      }
      const { job, created } = await guard.run(() =>
        enqueueCohortCreate(fleet, { cohort: name, members, expiresAt, profile }, { origin: 'api', jobOptions, redis }),
      );
      const jobId = job.id ?? '';
      request.log.info({ jobId, cohort: name, trainees: members.length, created }, created ? 'cohort enqueued' : 'cohort creation already pending');
      const statusUrl = statusUrlOf(jobId);
      return reply.code(202).header('location', statusUrl).send({ jobId, statusUrl, alreadyPending: !created, trainees: members.length });
    },
  );

  app.delete(
    '/cohorts/:name',
    {
      schema: {
        tags: ['cohorts'],
        summary: 'Delete every member of the cohort (namespace, Keycloak and Grafana users), as one flow; the group goes with the last member',
        params: cohortParams,
        response: { 202: cohortAccepted, ...commonErrors },
      },
    },
    async (request, reply) => {
      const { name } = request.params;
      const { job, created } = await guard.run(() => enqueueCohortDelete(fleet, name, { origin: 'api', jobOptions, redis }));
      const jobId = job.id ?? '';
      request.log.info({ jobId, cohort: name, created }, created ? 'cohort deletion enqueued' : 'cohort deletion already pending');
      const statusUrl = statusUrlOf(jobId);
      return reply.code(202).header('location', statusUrl).send({ jobId, statusUrl, alreadyPending: !created });
    },
  );

  app.patch(
    '/cohorts/:name',
    {
      schema: {
        tags: ['cohorts'],
        summary: 'Move every member\'s expiry (each as PATCH /trainees/:username would), as one flow',
        params: cohortParams,
        body: cohortPatchBody,
        response: { 202: cohortAccepted, ...bodyErrors, 409: cohortRunPending },
      },
    },
    async (request, reply) => {
      const { name } = request.params;
      const { job, created } = await guard.run(() => enqueueCohortExpiry(fleet, name, request.body.expiresAt, { origin: 'api', jobOptions, redis }));
      const jobId = job.id ?? '';
      const statusUrl = statusUrlOf(jobId);
      return reply.code(202).header('location', statusUrl).send({ jobId, statusUrl, alreadyPending: !created });
    },
  );

  app.get(
    '/cohorts/:name/credentials',
    {
      // Fastify's automatic HEAD runs this handler: a `curl -I` or a link checker would take the passwords.
      exposeHeadRoute: false,
      schema: {
        tags: ['cohorts'],
        summary: 'The cohort\'s credentials as CSV (username,email,password,namespace), once: the first read takes them; later reads answer 410',
        params: cohortParams,
        produces: ['text/csv', 'application/json'],
        response: { 200: credentialsCsv, 404: errorBody, 409: errorBody, 410: credentialsGone, ...commonErrors },
      },
    },
    async (request, reply) => {
      const { name } = request.params;
      const csv = await guard.run(() => readCohortCredentials({ ...options, prefix: options.queuePrefix }, name));
      request.log.info({ cohort: name }, 'cohort credentials handed out');
      reply.header('cache-control', 'no-store');
      return reply.code(200).type('text/csv; charset=utf-8').send(csv);
    },
  );
};
