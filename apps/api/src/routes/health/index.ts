import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';

export interface HealthRoutesOptions {
  /** Resolves true when Redis answers a PING in time. */
  redisReady(): Promise<boolean>;
}

const status = z.object({ status: z.string() });

/** Liveness and readiness; no token needed. */
export const healthRoutes: FastifyPluginAsyncZod<HealthRoutesOptions> = async (app, { redisReady }) => {
  app.get(
    '/',
    { config: { public: true }, schema: { tags: ['health'], summary: 'Liveness, as a plain-text sentence', response: { 200: z.string() } } },
    async (_request, reply) => reply.type('text/plain; charset=utf-8').send('k8s-user-provisioner is running'),
  );

  app.get(
    '/healthz',
    { config: { public: true }, schema: { tags: ['health'], summary: 'Liveness: the process serves requests', response: { 200: status } } },
    async () => ({ status: 'ok' }),
  );

  app.get(
    '/readyz',
    {
      config: { public: true },
      schema: { tags: ['health'], summary: 'Readiness: Redis answers', response: { 200: status, 503: status } },
    },
    async (_request, reply) => ((await redisReady()) ? { status: 'ready' } : reply.code(503).send({ status: 'redis unavailable' })),
  );
};
