import { z } from 'zod';

/** Cohorts (`POST /cohorts`): read by the API, merged into its settings (env.ts). */
export const cohortApiSettings = {
  /** Most trainees one `POST /cohorts` may list; a longer list is refused (400) before anything is enqueued. */
  COHORT_MAX_TRAINEES: z.coerce.number().int().min(1).max(10_000).default(500),
};
