import { randomUUID } from 'node:crypto';
import { z } from 'zod';

/**
 * Reads the API asks the worker for. The API never calls Keycloak, Kubernetes or Grafana
 * itself: a route that needs to know something there enqueues a `query` job on
 * `QUEUES.queries` and waits (at most QUERY_TIMEOUT_SECONDS) for the worker's answer.
 *
 * A query kind is one `defineQuery` (its name, the schema of its parameters and of its
 * answer), shared by both sides: the API's `WorkerQueries.ask` (apps/api/src/queries) and
 * the worker's `answerQueries` table (apps/worker/src/queries). Answers are shown in Bull
 * Board while the job is kept (briefly): a query's answer never holds a secret.
 */

export interface QueryDefinition<P extends z.ZodType = z.ZodType, R extends z.ZodType = z.ZodType> {
  /** `area.verb`, e.g. `trainees.list`: stored in the job's data. */
  kind: string;
  params: P;
  result: R;
}

export type QueryParams<Q extends QueryDefinition> = z.infer<Q['params']>;
export type QueryResult<Q extends QueryDefinition> = z.infer<Q['result']>;

const KIND = /^[a-z][a-z0-9-]*(\.[a-z][a-z0-9-]*)+$/;

export function defineQuery<P extends z.ZodType, R extends z.ZodType>(kind: string, params: P, result: R): QueryDefinition<P, R> {
  if (!KIND.test(kind)) throw new Error(`query kind "${kind}" is not of the form area.verb`);
  return { kind, params, result };
}

/** The data of a `query` job: which kind, with which parameters (checked by the worker). */
export const queryJobData = z.object({
  kind: z.string().regex(KIND, 'not a query kind'),
  params: z.unknown(),
});
export type QueryJobData = z.infer<typeof queryJobData>;

/** A fresh id per question: two callers asking the same never share a job. */
export function queryJobId(): string {
  return `query-${randomUUID()}`;
}

/**
 * A query is asked once (the caller is waiting; it asks again if it wants to) and removed
 * soon after it ends: the API removes it as soon as it has read the answer, these ages are
 * the safety net for one nobody read (caller gone, timed out).
 */
export const QUERY_JOB_OPTIONS = {
  attempts: 1,
  removeOnComplete: { age: 60, count: 1_000 },
  removeOnFail: { age: 300, count: 1_000 },
} as const;
