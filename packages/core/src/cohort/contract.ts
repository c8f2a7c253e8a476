import { z } from 'zod';
import { JOBS, createJobData } from '../queue/contract.js';

/**
 * The cohort part of the queue contract. A cohort is a class of trainees created together;
 * its membership lives in the systems themselves (the Keycloak group `cohort-<name>` and the
 * namespace label `k8s-user-provisioner/cohort`), never only in Redis. Each bulk operation is
 * a flow: one parent on `QUEUES.fleet`, one child per trainee on `QUEUES.fleetUser`.
 */

export const COHORT_GROUP_PREFIX = 'cohort-';
/** On each member's namespace; written under its own field manager, so sync's apply keeps it. */
export const COHORT_LABEL = 'k8s-user-provisioner/cohort';
/** `cohort-<name>` must stay a DNS-1123 label (63 characters) wherever it is used as a name. */
export const MAX_COHORT_NAME_LENGTH = 63 - COHORT_GROUP_PREFIX.length;

export const cohortName = z
  .string()
  .max(MAX_COHORT_NAME_LENGTH, `at most ${MAX_COHORT_NAME_LENGTH} characters (cohort-<name> is a DNS-1123 label)`)
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'a DNS-1123 label: lowercase letters, digits and -, starting and ending with a letter or digit');

export const cohortGroupName = (name: string): string => `${COHORT_GROUP_PREFIX}${name}`;

export const COHORT_JOBS = {
  /** Parents, on `QUEUES.fleet`. */
  create: JOBS.cohortCreate,
  delete: JOBS.cohortDelete,
  /** Children, on `QUEUES.fleetUser`: the same create and delete as single trainees get. */
  memberCreate: JOBS.cohortMemberCreate,
  memberDelete: JOBS.cohortMemberDelete,
  /** `PATCH /cohorts/:name`: each child is a trainee's own expiry change (`set-expiry`). */
  expiry: JOBS.cohortExpiry,
  memberExpiry: JOBS.cohortMemberExpiry,
} as const;
export type CohortChild = 'memberCreate' | 'memberDelete' | 'memberExpiry';

/** Parent ids: one pending operation of a kind per cohort (a second request is answered with it). */
export const cohortCreateJobId = (name: string): string => `${COHORT_JOBS.create}-${name}`;
export const cohortDeleteJobId = (name: string): string => `${COHORT_JOBS.delete}-${name}`;
/** Child ids: unique per run, so a cohort created again never meets an older run's children. */
export const cohortExpiryJobId = (name: string): string => `${COHORT_JOBS.expiry}-${name}`;
export const cohortMemberJobId = (child: CohortChild, runId: string, username: string): string =>
  `${COHORT_JOBS[child]}-${runId}-${username}`;

/** A trainee as the cohort request gave them, with the username a single create would derive. */
export const cohortMember = z.object({ username: z.string(), email: z.string().optional(), fullName: z.string().optional() });
export type CohortMember = z.infer<typeof cohortMember>;

export const cohortFailure = z.object({ username: z.string(), code: z.string(), message: z.string() });

const runBase = {
  runId: z.string().regex(/^[a-z0-9]+$/),
  requestedAt: z.iso.datetime(),
  origin: z.string().max(40).default('api'),
  cohort: cohortName,
  /** `added`: children already given to BullMQ (their ids are fixed: adding again is a no-op). */
  state: z.object({ step: z.enum(['fan-out', 'wait-children', 'aggregate']), added: z.number().int().min(0) }).optional(),
};

export const cohortCreateRunData = z.object({
  ...runBase,
  expiresAt: z.iso.datetime({ offset: true }).optional(),
  profile: z.string().min(1).max(63).optional(),
  members: z.array(cohortMember).min(1),
});
export type CohortCreateRunData = z.infer<typeof cohortCreateRunData>;

export const cohortDeleteRunData = z.object(runBase);
export type CohortDeleteRunData = z.infer<typeof cohortDeleteRunData>;
export const cohortExpiryRunData = z.object({ ...runBase, expiresAt: z.iso.datetime({ offset: true }) });
export type CohortExpiryRunData = z.infer<typeof cohortExpiryRunData>;

export const cohortExpiryResult = z.object({
  cohort: z.string(),
  summary: z.string(),
  expiresAt: z.string(),
  total: z.number().int(),
  changed: z.array(z.string()),
  failures: z.array(cohortFailure),
});
export type CohortExpiryResult = z.infer<typeof cohortExpiryResult>;

/** A create child: exactly a single create's data, plus the cohort it joins. */
export const cohortMemberCreateData = createJobData.extend({ cohort: cohortName, runId: z.string(), profile: z.string().optional() });
export type CohortMemberCreateData = z.infer<typeof cohortMemberCreateData>;


export const cohortCreateResult = z.object({
  cohort: z.string(),
  summary: z.string(),
  total: z.number().int(),
  created: z.array(z.string()),
  /** The same trainee was already provisioned: they joined the cohort, their password is unchanged. */
  alreadyProvisioned: z.array(z.string()),
  failures: z.array(cohortFailure),
  credentialsUrl: z.string(),
});
export type CohortCreateResult = z.infer<typeof cohortCreateResult>;

export const cohortDeleteResult = z.object({
  cohort: z.string(),
  summary: z.string(),
  total: z.number().int(),
  deleted: z.array(z.string()),
  failures: z.array(cohortFailure),
  /** The Keycloak group goes once every member is gone; kept while a deletion failed. */
  groupDeleted: z.boolean(),
});
export type CohortDeleteResult = z.infer<typeof cohortDeleteResult>;

/** Reads `{child, runId, username}` from a cohort child's id or BullMQ key. */
export function parseCohortChildId(idOrKey: string): { runId: string; username: string } | undefined {
  const id = idOrKey.slice(idOrKey.lastIndexOf(':') + 1);
  const match = /^cohort-member-(?:create|delete|expiry)-([a-z0-9]+)-([a-z0-9][-a-z0-9]*)$/.exec(id);
  return match ? { runId: match[1] as string, username: match[2] as string } : undefined;
}

export const isCohortJob = (name: string): boolean => (Object.values(COHORT_JOBS) as string[]).includes(name);
