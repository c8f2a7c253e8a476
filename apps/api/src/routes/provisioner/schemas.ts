import { z } from 'zod';
import { emailAddress, emailAddressToFind, fullNameProblem } from '@kup/core';

// Internationalized addresses (RFC 6531) are taken: `Émilie.Durand@example.fr`.
const email = emailAddress.describe('The trainee\'s email (UTF-8 and IDN welcome); the username comes from its local part.');
/** Delete only looks a trainee up: an address the old service took but Keycloak now refuses still finds them. */
const emailToFind = emailAddressToFind.describe('The trainee\'s email as it was given at creation; the username comes from its local part.');
const fullName = z.string().trim().min(1).max(200).describe('Used for the username when there is no email.');
const expiresAt = z.iso.datetime({ offset: true, error: 'must be an ISO 8601 date-time, e.g. 2027-01-31T00:00:00Z' });

const atLeastOne = (body: { email?: string | undefined; full_name?: string | undefined }) =>
  body.email !== undefined || body.full_name !== undefined;
/** The old service's 400, word for word; the error handler makes it the answer's message. */
export const EMAIL_AND_NAME_MISSING = 'Email address and full name are missing';
const atLeastOneMessage = { message: EMAIL_AND_NAME_MISSING };

/** What Keycloak would refuse is refused here, with its reason, rather than failing the job later. */
const keycloakAccepts = (problem: (value: string) => string | undefined) => (value: string, ctx: z.core.$RefinementCtx<string>) => {
  const message = problem(value);
  if (message) ctx.addIssue({ code: 'custom', message, input: value });
};

/** `POST /provisioner`; unknown fields are refused (400), like in every body. */
export const createBody = z
  .strictObject({
    // `email` already holds Keycloak's rules for an address (dot-atom, local part ≤ 64).
    email: email.optional(),
    full_name: fullName.superRefine(keycloakAccepts(fullNameProblem)).optional(),
    expiresAt: expiresAt
      .refine((value) => Date.parse(value) > Date.now(), 'must be in the future')
      .optional()
      .describe('When cleanup removes the playground (default: DEFAULT_EXPIRY_DAYS after creation).'),
    profile: z
      .string()
      .min(1)
      .max(63)
      .optional()
      .describe('The quota profile (ResourceQuota and LimitRange): `small`, `medium`, `large` or one of QUOTA_PROFILES_FILE; default DEFAULT_QUOTA_PROFILE. An unknown name is a 400 listing the valid ones.')
      .meta({ examples: ['small'] }),
    welcome: z.boolean().optional().describe('`true`: the job\'s result (GET /jobs/:id) carries `welcome`, what to hand the trainee (as GET /trainees/:username/welcome).'),
  })
  .refine(atLeastOne, atLeastOneMessage)
  .meta({ id: 'CreateRequest' });

/** `DELETE /provisioner`: the same body; `expiresAt` is accepted and ignored. */
export const deleteBody = z
  .strictObject({ email: emailToFind.optional(), full_name: fullName.optional(), expiresAt: expiresAt.optional() })
  .refine(atLeastOne, atLeastOneMessage)
  .meta({ id: 'DeleteRequest' });

export const accepted = z
  .object({
    jobId: z.string(),
    statusUrl: z.string().describe('GET it for the job\'s state and result.'),
    username: z.string(),
  })
  .meta({ id: 'Accepted' });

/** The old synchronous answers, with `jobId` added (`Prefer: wait`). */
export const created = z
  .object({
    message: z.string(),
    user_id: z.string(),
    password: z.string().optional().describe('Absent only if the sealed password was already purged.'),
    username: z.string(),
    jobId: z.string(),
  })
  .meta({ id: 'Created' });

export const deleted = z
  .object({ message: z.string(), user_id: z.string().nullable(), username: z.string(), jobId: z.string() })
  .meta({ id: 'Deleted' });

/**
 * A waited-for job that did not succeed: 409 (conflict, already exists) or 502 (an upstream
 * failed); also a create refused at once (409), which names no job when the username
 * belongs to another trainee.
 */
export const jobFailed = z
  .object({ message: z.string(), code: z.string().optional(), jobId: z.string().optional() })
  .meta({ id: 'JobFailed' });

/** `DELETE /provisioner` of someone who does not exist, under `Prefer: wait`: `{message, username}` as well. */
export const notFound = jobFailed.extend({ username: z.string().optional() }).meta({ id: 'UserNotFound' });

/** Other headers pass through untouched (a loose object). */
export const preferHeaders = z.looseObject({
  prefer: z
    .string()
    .optional()
    .describe('RFC 7240, e.g. `wait=30`: answer when the job ends (at most MAX_WAIT_SECONDS) with its final answer (200, or the error the job ended with) instead of 202; 202 if time runs out.'),
});
