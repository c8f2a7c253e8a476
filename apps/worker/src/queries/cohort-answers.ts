import { cohortListQuery, cohortShowQuery, describeCohort, listCohorts, type CohortViewPorts } from '@kup/core';
import { answerer, type QueryAnswerer } from './answer-queries.js';

/** The worker's answers to the cohort API's reads. */
export function cohortAnswerers(ports: CohortViewPorts): QueryAnswerer[] {
  return [
    answerer(cohortListQuery, ({ offset, limit }, { signal }) => listCohorts(ports, offset, limit, signal)),
    answerer(cohortShowQuery, async ({ name }, { signal }) => {
      const cohort = await describeCohort(ports, name, signal);
      return cohort ? { found: true as const, ...cohort } : { found: false as const };
    }),
  ] as QueryAnswerer[];
}
