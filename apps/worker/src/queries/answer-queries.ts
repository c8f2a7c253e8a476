import {
  InvalidInputError,
  ProvisionerError,
  formatIssues,
  queryJobData,
  type Logger,
  type QueryDefinition,
  type QueryParams,
  type QueryResult,
} from '@kup/core';
import { jobFailure } from '../processors/job-failure.js';
import type { JobProcessor } from '../processors/processor.js';

export interface QueryContext {
  signal: AbortSignal | undefined;
  log: Logger;
}

/** How the worker answers one kind of query. */
export interface QueryAnswerer<Q extends QueryDefinition = QueryDefinition> {
  query: Q;
  answer(params: QueryParams<Q>, ctx: QueryContext): Promise<QueryResult<Q>>;
}

/** Pairs a query with its answer, keeping the types of both sides together. */
export function answerer<Q extends QueryDefinition>(query: Q, answer: QueryAnswerer<Q>['answer']): QueryAnswerer<Q> {
  return { query, answer };
}

/**
 * The worker's side of "ask the worker" (queue/query-contract.ts): one processor for the
 * `query` job that picks the answerer by kind, checks the parameters before and the answer
 * after (an answer that does not fit its schema, e.g. one that would carry more than the
 * schema allows, is never stored). A kind this worker does not know fails `UNKNOWN_JOB`.
 */
export function answerQueries(answerers: readonly QueryAnswerer[], log: Logger): JobProcessor {
  const byKind = new Map<string, QueryAnswerer>();
  for (const one of answerers) {
    if (byKind.has(one.query.kind)) throw new Error(`two answerers for query ${one.query.kind}`);
    byKind.set(one.query.kind, one);
  }
  return async (job, _token, signal) => {
    const data = queryJobData.safeParse(job.data);
    if (!data.success) throw jobFailure(new InvalidInputError(formatIssues(data.error)));
    const one = byKind.get(data.data.kind);
    if (!one) throw jobFailure(new ProvisionerError('UNKNOWN_JOB', `this worker answers no query "${data.data.kind}"`));
    const params = one.query.params.safeParse(data.data.params);
    if (!params.success) throw jobFailure(new InvalidInputError(formatIssues(params.error, 'params')));
    const answer = await one.answer(params.data, { signal, log: log.child({ jobId: job.id, query: one.query.kind }) });
    // Strips what the schema does not name (zod objects drop unknown keys) before BullMQ stores it.
    const checked = one.query.result.safeParse(answer);
    if (!checked.success) throw jobFailure(new ProvisionerError('INTERNAL', `answer to ${one.query.kind} does not fit its schema: ${formatIssues(checked.error)}`));
    return checked.data;
  };
}
