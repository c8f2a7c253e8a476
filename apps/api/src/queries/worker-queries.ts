import type { Queue } from 'bullmq';
import {
  JOBS,
  QUERY_JOB_OPTIONS,
  QUEUES,
  jobTraceFields,
  queryJobId,
  readJobFailure,
  statusOfFailure,
  type QueryDefinition,
  type QueryParams,
  type QueryResult,
} from '@kup/core';
import { HttpError } from '../http/http-error.js';
import type { JobWaiter } from '../jobs/job-waiter.js';
import type { RedisGuard } from '../jobs/redis-guard.js';

export interface WorkerQueriesDeps {
  queue: Pick<Queue, 'add' | 'getJob'>;
  waiter: Pick<JobWaiter, 'waitForEnd'>;
  guard: RedisGuard;
  /** QUERY_TIMEOUT_SECONDS. */
  timeoutSeconds: number;
}

/** No worker answered in time: nothing upstream was asked on the caller's behalf. */
export class WorkerUnavailableError extends HttpError {
  constructor(seconds: number) {
    super(503, `no worker answered within ${seconds} s (QUERY_TIMEOUT_SECONDS): is a worker running? Try again shortly`, 'WORKER_UNAVAILABLE');
    this.name = 'WorkerUnavailableError';
  }
}

/**
 * "Ask the worker": the API's side of a query (queue/query-contract.ts). Enqueues a
 * `query` job, waits for it to end (QUERY_TIMEOUT_SECONDS at most), checks the answer
 * against the query's schema and removes the job. A failed query is thrown as an
 * HttpError with its code's status (an upstream failure is a 502); no answer in time is a
 * 503 `WORKER_UNAVAILABLE`.
 */
export class WorkerQueries {
  constructor(private readonly deps: WorkerQueriesDeps) {}

  async ask<Q extends QueryDefinition>(query: Q, params: QueryParams<Q>, signal?: AbortSignal): Promise<QueryResult<Q>> {
    const checked = query.params.safeParse(params);
    if (!checked.success) throw new HttpError(400, checked.error.issues[0]?.message ?? 'invalid query', 'INVALID_INPUT');
    const { queue, waiter, guard, timeoutSeconds } = this.deps;
    const job = await guard.run(() =>
      queue.add(JOBS.query, { kind: query.kind, params: checked.data, ...jobTraceFields() }, { ...QUERY_JOB_OPTIONS, jobId: queryJobId() }),
    );
    const id = job.id as string;
    try {
      await waiter.waitForEnd(QUEUES.queries, job, timeoutSeconds * 1000, signal);
      const ended = await guard.run(async () => {
        const current = await queue.getJob(id);
        const state = await current?.getState();
        return current && (state === 'completed' || state === 'failed') ? { job: current, state } : undefined;
      });
      if (!ended) throw new WorkerUnavailableError(timeoutSeconds);
      if (ended.state === 'failed') {
        const { code, message } = readJobFailure(ended.job);
        throw new HttpError(statusOfFailure(code), message, code);
      }
      const answer = query.result.safeParse(ended.job.returnvalue);
      if (!answer.success) throw new HttpError(502, `the worker's answer to ${query.kind} does not fit its schema`, 'INTERNAL');
      return answer.data as QueryResult<Q>;
    } finally {
      // Read or abandoned: either way nobody needs it any more. A job a worker holds
      // (active) cannot be removed; QUERY_JOB_OPTIONS' ages remove it once it ends.
      await guard.run(() => queue.getJob(id).then((current) => current?.remove())).catch(() => undefined);
    }
  }
}
