import { z } from 'zod';
import { defineQuery } from '../queue/query-contract.js';
import { traineeSummary } from '../queue/trainee-contract.js';
import { cohortName } from './contract.js';

/** The reads of the cohort API, answered by the worker from Keycloak's groups and the namespaces. */

export const COHORT_PAGE_MAX = 100;

export const cohortListQuery = defineQuery(
  'cohorts.list',
  z.object({ limit: z.number().int().min(1).max(COHORT_PAGE_MAX), offset: z.number().int().min(0) }),
  z.object({
    items: z.array(z.object({ name: z.string() })),
    /** Where the next page starts; null on the last page. */
    nextOffset: z.number().int().min(0).nullable(),
  }),
);

export const cohortMemberView = traineeSummary.extend({
  /** `present`, `missing` or `terminating`: the member's namespace as Kubernetes has it. */
  namespace: z.enum(['present', 'missing', 'terminating']),
  /** The namespace carries the cohort label (sync keeps it; a reset that recreates it puts it back). */
  labelled: z.boolean(),
});
export type CohortMemberView = z.infer<typeof cohortMemberView>;

/** The most members one answer lists (a cohort is made COHORT_MAX_TRAINEES at a time). */
export const COHORT_SHOW_MAX = 2_000;

export const cohortShowQuery = defineQuery(
  'cohorts.show',
  z.object({ name: cohortName }),
  z.discriminatedUnion('found', [
    z.object({ found: z.literal(false) }),
    z.object({ found: z.literal(true), members: z.array(cohortMemberView), truncated: z.boolean() }),
  ]),
);
