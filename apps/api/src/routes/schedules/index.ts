import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { Queue } from 'bullmq';
import { z } from 'zod';
import { commonErrors } from '../../http/schemas.js';
import type { RedisGuard } from '../../jobs/redis-guard.js';

export interface ScheduleRoutesOptions {
  /** The schedulers' queue (`FLEET_SCHEDULES_QUEUE`); the worker upserts them at start. */
  schedules: Pick<Queue, 'getJobSchedulers'>;
  guard: Pick<RedisGuard, 'run'>;
}

export const scheduleList = z
  .object({
    schedules: z.array(
      z.object({
        id: z.string(),
        kind: z.string().describe('The fleet run it starts: reset, cleanup or sync.'),
        pattern: z.string().nullable(),
        tz: z.string(),
        next: z.string().nullable().describe('Next run, ISO 8601.'),
        data: z.record(z.string(), z.unknown()).describe('The request the run gets.'),
      }),
    ),
  })
  .meta({ id: 'Schedules' });

/** `GET /schedules`: the job schedulers that start fleet runs, with their next run time. */
export const scheduleRoutes: FastifyPluginAsyncZod<ScheduleRoutesOptions> = async (app, { schedules, guard }) => {
  app.get(
    '/schedules',
    {
      schema: {
        tags: ['fleet'],
        summary: 'Job schedulers of the fleet runs (only enabled ones exist) and their next run time',
        response: { 200: scheduleList, ...commonErrors },
      },
    },
    async () => {
      const list = await guard.run(() => schedules.getJobSchedulers(0, -1, true));
      return {
        schedules: list.map((s) => ({
          id: s.id ?? s.key,
          kind: s.name,
          pattern: s.pattern ?? null,
          tz: s.tz ?? 'UTC',
          next: s.next ? new Date(s.next).toISOString() : null,
          data: (s.template?.data ?? {}) as Record<string, unknown>,
        })),
      };
    },
  );
};
