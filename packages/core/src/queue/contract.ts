import { z } from 'zod';
import { emailAddress } from '../domain/email.js';
import { fullNameProblem } from '../domain/identity.js';
import { PROFILE_NAME } from '../domain/quota-profiles.js';

/**
 * The queue contract between apps/api (producer) and apps/worker (consumer): queue and
 * job names, payload and result schemas, job ids. Payloads never hold secrets: generated
 * passwords live sealed in the SecretStore, keyed by job.
 */

export const QUEUES = {
  /** One job per trainee and operation: create, delete. */
  provisioning: 'provisioning',
  /** One parent job per fleet run: reset, cleanup, sync. */
  fleet: 'fleet',
  /** The per-trainee children of fleet runs. */
  fleetUser: 'fleet-user',
  /** Reads the API asks the worker for (query-contract.ts): short-lived, never retried. */
  queries: 'queries',
} as const;
export type QueueName = (typeof QUEUES)[keyof typeof QUEUES];

export const JOBS = {
  create: 'create',
  delete: 'delete',
  reset: 'reset',
  cleanup: 'cleanup',
  sync: 'sync',
  resetUser: 'reset-user',
  cleanupUser: 'cleanup-user',
  syncUser: 'sync-user',
  /** Cohorts (cohort/contract.ts): parents on `fleet`, one child per trainee on `fleet-user`. */
  cohortCreate: 'cohort-create',
  cohortDelete: 'cohort-delete',
  cohortMemberCreate: 'cohort-member-create',
  cohortMemberDelete: 'cohort-member-delete',
  cohortExpiry: 'cohort-expiry',
  cohortMemberExpiry: 'cohort-member-expiry',
  /** A trainee's expiry, delayed until its `expiresAt` (expiry-contract.ts). */
  expire: 'expire',
  /** Moves a trainee's expiry (`PATCH /trainees/:username`). */
  setExpiry: 'set-expiry',
  /** Moves a trainee to another quota profile (`PATCH /trainees/:username`, profile-contract.ts). */
  setProfile: 'set-profile',
  /** Replaces a trainee's password (`POST /trainees/:username/password`, password-contract.ts). */
  resetPassword: 'reset-password',
  /** One read answered by the worker (query-contract.ts). */
  query: 'query',
} as const;
export type JobName = (typeof JOBS)[keyof typeof JOBS];

/** Which queue a job of a given name lives on. */
export const QUEUE_OF: Record<JobName, QueueName> = {
  create: QUEUES.provisioning,
  delete: QUEUES.provisioning,
  reset: QUEUES.fleet,
  cleanup: QUEUES.fleet,
  sync: QUEUES.fleet,
  'reset-user': QUEUES.fleetUser,
  'cleanup-user': QUEUES.fleetUser,
  'sync-user': QUEUES.fleetUser,
  'cohort-create': QUEUES.fleet,
  'cohort-delete': QUEUES.fleet,
  'cohort-member-create': QUEUES.fleetUser,
  'cohort-member-delete': QUEUES.fleetUser,
  'cohort-expiry': QUEUES.fleet,
  'cohort-member-expiry': QUEUES.fleetUser,
  expire: QUEUES.provisioning,
  'set-expiry': QUEUES.provisioning,
  'set-profile': QUEUES.provisioning,
  'reset-password': QUEUES.provisioning,
  query: QUEUES.queries,
};

const username = z.string().regex(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/, 'not a DNS-1123 label');
/** Keycloak's user profile refuses usernames under 3 characters: say so before enqueueing. */
const newUsername = username.min(3, 'Keycloak needs a username of at least 3 characters');

/** Keycloak's own refusals, as zod issues: a job never carries input Keycloak will refuse. */
const accepted = (problem: (value: string) => string | undefined) => (value: string, ctx: z.core.$RefinementCtx<string>) => {
  const message = problem(value);
  if (message) ctx.addIssue({ code: 'custom', message, input: value });
};

export const createJobData = z.object({
  username: newUsername,
  // emailAddress holds Keycloak's rules for a new user's address (dot-atom, local part ≤ 64).
  email: emailAddress.optional(),
  fullName: z.string().min(1).max(200).superRefine(accepted(fullNameProblem)).optional(),
  /** ISO 8601; when the playground should be removed by cleanup. */
  expiresAt: z.iso.datetime({ offset: true }).optional(),
  /** The quota profile (QUOTA_PROFILES_FILE, built-ins); DEFAULT_QUOTA_PROFILE when unset. */
  profile: z.string().regex(PROFILE_NAME, 'a profile name is a DNS-1123 label').optional(),
  /** The caller wants the welcome with the result (`GET /jobs/:id`); the worker ignores it. */
  welcome: z.boolean().optional(),
});
export type CreateJobData = z.infer<typeof createJobData>;

export const deleteJobData = z.object({
  /** Candidates in the order tried: email-derived, then name-derived. */
  usernames: z.array(username).min(1).max(2),
  /**
   * The email the caller named (`DELETE /provisioner`): a candidate whose trainee holds
   * another one is someone else, never deleted. Internal deletes (cleanup, expiry, a
   * trainee's own route) name the username alone.
   */
  email: z.string().max(320).optional(),
});
export type DeleteJobData = z.infer<typeof deleteJobData>;

export const createJobResult = z.object({
  username,
  userId: z.string(),
  email: z.string().optional(),
  /** The user was already fully provisioned with this email: nothing changed, no password. */
  alreadyProvisioned: z.boolean(),
  /** A generated password can be read (decrypted) through `GET /jobs/:id` until its TTL. */
  passwordIssued: z.boolean(),
  namespace: z.string(),
  grafanaUserId: z.number().int().optional(),
});
export type CreateJobResult = z.infer<typeof createJobResult>;

export const deleteJobResult = z.object({
  /** The username that was found (or the first candidate when none was). */
  username,
  userId: z.string().nullable(),
  found: z.boolean(),
  removed: z.object({ namespace: z.boolean(), keycloak: z.boolean(), grafana: z.boolean() }),
});
export type DeleteJobResult = z.infer<typeof deleteJobResult>;

export const jobProgress = z.object({
  step: z.string(),
  done: z.number().int().min(0),
  total: z.number().int().min(0),
});
export type JobProgress = z.infer<typeof jobProgress>;

/** BullMQ refuses `:` in custom ids; usernames are DNS labels, so these never hold one. */
export function createJobId(name: string): string {
  return `${JOBS.create}-${name}`;
}
export function deleteJobId(name: string): string {
  return `${JOBS.delete}-${name}`;
}

/** Default options for every job, set in one place (producers pass them on add). */
export function defaultJobOptions(config: { JOB_ATTEMPTS: number; JOB_BACKOFF_MS: number }) {
  return {
    attempts: config.JOB_ATTEMPTS,
    backoff: { type: 'exponential' as const, delay: config.JOB_BACKOFF_MS },
    removeOnComplete: { age: 7 * 24 * 3600, count: 10_000 },
    removeOnFail: { age: 30 * 24 * 3600, count: 10_000 },
  };
}
