import { z } from 'zod';
import { TRAINEE_PAGE_MAX, TRAINEE_STATES, setExpiryJobResult, setProfileJobResult, traineeDetail, traineeSummary } from '@kup/core';
import { passwordResetResultView } from '../../jobs/job-view.js';

const isoDateTime = (what: string) => z.iso.datetime({ offset: true, error: `${what} must be an ISO 8601 date-time, e.g. 2027-01-31T00:00:00Z` });

export const usernameParams = z.object({
  username: z
    .string()
    .regex(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/, 'username must be a DNS-1123 label: lower-case letters, digits and -, at most 63')
    .describe('The trainee\'s username (also their namespace).'),
});

export const listQuerystring = z.strictObject({
  prefix: z
    .string()
    .regex(/^[a-z0-9][-a-z0-9]{0,62}$/, 'prefix must be the start of a username: lower-case letters, digits and -')
    .optional()
    .describe('Only usernames starting with this.'),
  state: z.enum(TRAINEE_STATES).optional().describe('`provisioned`: complete in every system; `incomplete`: a create that has not finished, or failed half-way.'),
  expiresBefore: isoDateTime('expiresBefore').optional().describe('Only trainees whose expiry is before this instant.'),
  createdBefore: isoDateTime('createdBefore').optional().describe('Only trainees created before this instant.'),
  limit: z.coerce.number().int().min(1).max(TRAINEE_PAGE_MAX).default(50).describe(`Trainees per page (1–${TRAINEE_PAGE_MAX}, default 50).`),
  cursor: z.string().min(1).max(512).optional().describe('`nextCursor` of the previous page, with the same filters.'),
});

const summaryExample = {
  username: 'jean-dupont',
  email: 'jean.dupont@example.org',
  fullName: 'Jean Dupont',
  created: '2026-11-02T09:14:03.000Z',
  expires: '2027-11-02T09:14:03.000Z',
  provisioned: true,
};

export const traineePage = z
  .object({
    items: z.array(traineeSummary.meta({ id: 'TraineeSummary' })),
    nextCursor: z.string().nullable().describe('Pass as `cursor` for the next page; null on the last one. A page may hold fewer than `limit` items and still have a next one.'),
  })
  .meta({ id: 'TraineePage', examples: [{ items: [summaryExample], nextCursor: 'eyJvIjoxLCJmIjoiVk1vV2lXSjkzS2NGZ3FEQSJ9.q2Xy…' }] });

export const recentJob = z.object({
  id: z.string(),
  type: z.string(),
  state: z.string(),
  createdAt: z.string(),
  finishedAt: z.string().nullable(),
  /** For a delayed job (the trainee's expiry): when it is due. */
  dueAt: z.string().nullable(),
  error: z.object({ code: z.string(), message: z.string() }).optional(),
});

export const traineeView = traineeDetail
  .extend({ jobs: z.array(recentJob).describe('The trainee\'s last create, delete, expiry change and expiry jobs, newest first (results are under GET /jobs/:id).') })
  .meta({
    id: 'Trainee',
    examples: [
      {
        username: 'jean-dupont',
        keycloak: {
          id: '5b0c6a0e-6f7e-4a7e-9d1c-3f1d2b8c9a10',
          email: 'jean.dupont@example.org',
          fullName: 'Jean Dupont',
          enabled: true,
          created: '2026-11-02T09:14:03.000Z',
          attributes: { managedBy: 'k8s-provisioner', provisioned: true, expiresAt: '2027-11-02T09:14:03.000Z', grafanaUserId: 42 },
        },
        namespace: {
          name: 'jean-dupont',
          phase: 'Active',
          labels: { 'managed-by': 'k8s-provisioner', provisioned: 'true' },
          annotations: { 'k8s-user-provisioner/expires-at': '2027-11-02T09:14:03.000Z' },
          drift: [],
          fittings: [
            { kind: 'RoleBinding', name: 'jean-dupont', state: 'current' },
            { kind: 'ResourceQuota', name: 'resource-limits', state: 'drifted', drift: ['spec.hard.pods'] },
            { kind: 'LimitRange', name: 'default-limits', state: 'missing' },
          ],
        },
        grafana: { recordedId: 42, state: 'ok', account: { id: 42, login: 'jean-dupont', email: 'jean.dupont@example.org' } },
        jobs: [
          { id: 'expire-jean-dupont', type: 'expire', state: 'delayed', createdAt: '2026-11-02T09:14:09.000Z', finishedAt: null, dueAt: '2027-11-02T09:14:03.000Z' },
          { id: 'create-jean-dupont', type: 'create', state: 'completed', createdAt: '2026-11-02T09:14:02.000Z', finishedAt: '2026-11-02T09:14:09.000Z', dueAt: null },
        ],
      },
    ],
  });

export const patchBody = z
  .strictObject({
    expiresAt: isoDateTime('expiresAt').optional().describe('The new expiry (earlier or later; a past one removes the trainee within moments).'),
    profile: z
      .string()
      .min(1)
      .max(63)
      .optional()
      .describe('Another quota profile (`small`, `medium`, `large` or one of QUOTA_PROFILES_FILE): the namespace\'s ResourceQuota and LimitRange follow. One of expiresAt and profile per request.'),
  })
  .refine((body) => (body.expiresAt === undefined) !== (body.profile === undefined), { message: 'give either expiresAt or profile (one change per request)' })
  .meta({ id: 'TraineePatch', examples: [{ expiresAt: '2027-03-31T18:00:00Z' }, { profile: 'large' }] });

export const profileChanged = setProfileJobResult
  .extend({ jobId: z.string() })
  .meta({ id: 'ProfileChanged', examples: [{ username: 'jean-dupont', profile: 'large', previous: 'medium', jobId: 'set-profile-jean-dupont' }] });

export const expiryChanged = setExpiryJobResult
  .extend({ jobId: z.string() })
  .meta({
    id: 'ExpiryChanged',
    examples: [{ username: 'jean-dupont', expiresAt: '2027-03-31T18:00:00.000Z', previous: '2026-12-20T00:00:00.000Z', namespaceUpdated: true, jobId: 'set-expiry-jean-dupont' }],
  });

/** No body, or `{}`: the new password is the worker's choice, never the caller's. */
export const passwordResetBody = z.strictObject({}).nullish().meta({ id: 'PasswordResetRequest' });

export const passwordReset = passwordResetResultView.extend({ jobId: z.string() }).meta({
  id: 'PasswordReset',
  examples: [
    {
      username: 'jean-dupont',
      reset: { keycloak: true, grafana: true },
      passwordIssued: true,
      password: 'Xb7kQ2m.Rt9!wZp4Nc_e',
      jobId: 'reset-password-jean-dupont',
    },
  ],
});

export const traineeNotFound = z
  .object({ message: z.string(), code: z.string(), jobId: z.string().optional() })
  .meta({ id: 'TraineeNotFound', examples: [{ message: 'No managed trainee named "jean-dupont"', code: 'TRAINEE_NOT_FOUND' }] });

export const notFoundBody = (username: string) => ({ message: `No managed trainee named "${username}"`, code: 'TRAINEE_NOT_FOUND' });
