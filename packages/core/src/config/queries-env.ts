import { z } from 'zod';

/** Settings of the reads the API asks the worker for (queue/query-contract.ts). */

/** The API's side: how long a request waits for the worker's answer before a 503. */
export const queryApiEnv = {
  QUERY_TIMEOUT_SECONDS: z.coerce.number().int().min(1).max(120).default(10),
};

/** The worker's side: queries are short reads, answered many at a time. */
export const queryWorkerEnv = {
  QUERY_CONCURRENCY: z.coerce.number().int().min(1).max(256).default(32),
};
