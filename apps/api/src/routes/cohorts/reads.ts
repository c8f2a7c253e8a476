import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { COHORT_PAGE_MAX, cohortListQuery, cohortMemberView, cohortShowQuery } from '@kup/core';
import { commonErrors, errorBody } from '../../http/schemas.js';
import type { WorkerQueries } from '../../queries/worker-queries.js';
import { cohortParams } from './schemas.js';

export interface CohortReadsOptions {
  queries: Pick<WorkerQueries, 'ask'>;
  shutdown: AbortSignal;
}

const cohortPage = z
  .object({ items: z.array(z.object({ name: z.string() })), nextOffset: z.number().int().nullable().describe('Pass as `offset` for the next page; null on the last.') })
  .meta({ id: 'CohortPage', examples: [{ items: [{ name: 'k8s-101-march' }, { name: 'k8s-201-april' }], nextOffset: null }] });

const cohortView = z
  .object({ name: z.string(), members: z.array(cohortMemberView), truncated: z.boolean().describe('More members than one answer lists (2000).') })
  .meta({
    id: 'Cohort',
    examples: [
      {
        name: 'k8s-101-march',
        truncated: false,
        members: [{ username: 'jean-dupont', email: 'jean.dupont@school.io', fullName: 'Jean Dupont', created: '2027-03-01T08:00:00.000Z', expires: '2027-03-08T18:00:00Z', provisioned: true, namespace: 'present', labelled: true }],
      },
    ],
  });

/**
 * `GET /cohorts` and `GET /cohorts/:name`: membership as the systems hold it (Keycloak's
 * groups, the namespaces), asked of the worker: the API never calls them itself.
 */
export const cohortReadRoutes: FastifyPluginAsyncZod<CohortReadsOptions> = async (app, { queries, shutdown }) => {
  const readErrors = { ...commonErrors, 502: errorBody };

  app.get(
    '/cohorts',
    {
      schema: {
        tags: ['cohorts'],
        summary: 'List cohorts (Keycloak groups `cohort-<name>`), a page at a time',
        querystring: z.object({
          limit: z.coerce.number().int().min(1).max(COHORT_PAGE_MAX).default(50),
          offset: z.coerce.number().int().min(0).default(0),
        }),
        response: { 200: cohortPage, ...readErrors },
      },
    },
    async (request, reply) => {
      const page = await queries.ask(cohortListQuery, request.query, shutdown);
      reply.header('cache-control', 'no-store');
      return page;
    },
  );

  app.get(
    '/cohorts/:name',
    {
      schema: {
        tags: ['cohorts'],
        summary: 'A cohort\'s members and their state: provisioned or not, expiry, namespace present and labelled',
        params: cohortParams,
        response: { 200: cohortView, 404: errorBody, ...readErrors },
      },
    },
    async (request, reply) => {
      const { name } = request.params;
      const answer = await queries.ask(cohortShowQuery, { name }, shutdown);
      if (!answer.found) return reply.code(404).send({ message: `No cohort "${name}"`, code: 'COHORT_NOT_FOUND' });
      reply.header('cache-control', 'no-store');
      return { name, members: answer.members, truncated: answer.truncated };
    },
  );
};
