import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { commonErrors, errorBody } from '../../http/schemas.js';
import type { JobReader } from '../../jobs/job-reader.js';
import { jobView } from '../../jobs/job-view.js';

export interface JobRoutesOptions {
  reader: Pick<JobReader, 'find'>;
}

/** `GET /jobs/:id`: a job of any queue, with its progress, result or error. */
export const jobRoutes: FastifyPluginAsyncZod<JobRoutesOptions> = async (app, { reader }) => {
  app.get(
    '/jobs/:id',
    {
      schema: {
        tags: ['jobs'],
        summary: 'State, progress and result of a job; a create result carries the password until it is purged',
        params: z.object({ id: z.string().min(1).max(256) }),
        response: { 200: jobView, 404: errorBody, ...commonErrors },
      },
    },
    async (request, reply) => {
      const view = await reader.find(request.params.id);
      if (!view) return reply.code(404).send({ message: 'Job not found', code: 'JOB_NOT_FOUND' });
      reply.header('cache-control', 'no-store');
      return view;
    },
  );
};
