import { z } from 'zod';
import { cohortCreateResult, cohortDeleteResult, cohortName } from '@kup/core';
import { errorBody } from '../../http/schemas.js';

const expiresAt = z.iso
  .datetime({ offset: true, error: 'must be an ISO 8601 date-time, e.g. 2027-01-31T00:00:00Z' })
  .refine((value) => Date.parse(value) > Date.now(), 'must be in the future')
  .describe('When cleanup removes every member (default: DEFAULT_EXPIRY_DAYS after creation).');
const profile = z.string().min(1).max(63).describe('Passed to each member\'s create as `profile` (quota profile).');

/** Each row is checked as `POST /provisioner` would check it, in the handler, so all rows are reported at once. */
const traineeRow = z.strictObject({ email: z.string().max(320).optional(), full_name: z.string().max(200).optional() });

export const cohortParams = z.object({ name: cohortName.describe('The cohort\'s name: a DNS-1123 label of at most 56 characters.') });

/** `POST /cohorts` as JSON; a `text/csv` body (header `email,full_name`) is read into the same shape, with the rest from the query. */
export const cohortBody = z
  .strictObject({
    name: cohortName.describe('The cohort\'s name; its Keycloak group is `cohort-<name>`.'),
    expiresAt: expiresAt.optional(),
    profile: profile.optional(),
    trainees: z.array(traineeRow).min(1, 'at least one trainee').describe('One item per trainee: email and/or full_name, as for POST /provisioner.'),
  })
  .meta({
    id: 'CohortRequest',
    examples: [{ name: 'k8s-101-march', expiresAt: '2027-03-08T18:00:00Z', trainees: [{ email: 'jean.dupont@school.io', full_name: 'Jean Dupont' }, { email: 'ana.silva@school.io' }] }],
  });

export const cohortPatchBody = z
  .strictObject({ expiresAt })
  .meta({ id: 'CohortPatch', examples: [{ expiresAt: '2027-03-15T18:00:00Z' }] });

/** With a CSV body, the cohort's name and options come as query parameters. */
export const cohortQuery = z.object({
  name: cohortName.optional().describe('CSV bodies only: the cohort\'s name.'),
  expiresAt: expiresAt.optional().describe('CSV bodies only.'),
  profile: profile.optional().describe('CSV bodies only.'),
});

export const cohortAccepted = z
  .object({
    jobId: z.string(),
    statusUrl: z.string().describe('GET it for the flow\'s progress (trainees done of total) and result.'),
    alreadyPending: z.boolean().describe('The same operation on this cohort, asked the same, was already pending: it is answered, nothing new starts (asked differently: 409 `DIFFERENT_RUN_PENDING`).'),
    trainees: z.number().int().optional(),
  })
  .meta({ id: 'CohortAccepted', examples: [{ jobId: 'cohort-create-k8s-101-march', statusUrl: '/jobs/cohort-create-k8s-101-march', alreadyPending: false, trainees: 20 }] });

export const cohortRunPending = errorBody
  .extend({ jobId: z.string().describe('The pending operation: follow it, or send this request again once it has ended.') })
  .describe('`DIFFERENT_RUN_PENDING`: the same operation on this cohort is pending for a different request (another trainee list, expiry or profile); nothing was enqueued.')
  .meta({ id: 'CohortRunPending' });

export const rowsRefused = errorBody
  .extend({ rows: z.array(z.object({ row: z.number().int(), reason: z.string() })).optional().describe('Every invalid row: row N is the Nth trainee (a CSV\'s line N + 1).') })
  .meta({
    id: 'CohortRowsRefused',
    examples: [{ message: '2 invalid rows: nothing was enqueued', code: 'INVALID_ROWS', rows: [{ row: 2, reason: 'Email address and full name are missing' }, { row: 4, reason: 'same username "jean-dupont" as row 1' }] }],
  });

export const credentialsCsv = z.string().meta({
  description: 'text/csv: `username,email,password,namespace`, one line per member whose password was issued by this cohort.',
  examples: ['username,email,password,namespace\njean-dupont,jean.dupont@school.io,9f8Qx…,jean-dupont\n'],
});

export const credentialsGone = errorBody.meta({
  id: 'CohortCredentialsGone',
  examples: [{ message: 'The credentials of cohort k8s-101-march were already read (2027-03-01T09:12:00.000Z); a lost password is replaced per trainee with POST /trainees/<username>/password (CLI: provisioner trainees reset-password <username>)', code: 'CREDENTIALS_GONE' }],
});

export { cohortCreateResult, cohortDeleteResult };
