import { z } from 'zod';
import { JOBS } from './contract.js';
import { listedIdentity, listedUser } from './listed-user.js';

/**
 * The fleet part of the queue contract: reset, cleanup and sync runs. A run is a BullMQ
 * flow: one parent job on `QUEUES.fleet` (fixed id per kind, so runs of a kind never
 * overlap) and one child per trainee on `QUEUES.fleetUser`. Payloads hold names and
 * options, never secrets; a password that sync generates lives in the SecretStore under
 * the child job's key.
 */

/** Where the job schedulers live: each firing enqueues the real run (same dedup as the API). */
export const FLEET_SCHEDULES_QUEUE = 'fleet-schedules';

export const FLEET_KINDS = [JOBS.reset, JOBS.cleanup, JOBS.sync] as const;
export type FleetKind = (typeof FLEET_KINDS)[number];

export const FLEET_CHILD_OF = { reset: JOBS.resetUser, cleanup: JOBS.cleanupUser, sync: JOBS.syncUser } as const;
export type FleetChildName = (typeof FLEET_CHILD_OF)[FleetKind];

const username = z.string().regex(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/, 'not a DNS-1123 label');

/**
 * Internal scope for tests and careful operators: only usernames starting with this are
 * touched by the run.
 */
const usernamePrefix = z.string().regex(/^[a-z0-9][-a-z0-9]{0,61}$/, 'a DNS-1123 label prefix').optional();

export const RESET_MODES = ['recreate', 'purge'] as const;
export type ResetMode = (typeof RESET_MODES)[number];

// ---- what callers ask for (API bodies, scheduler templates, CLI flags) ----

/** A cohort's name (cohort/contract.ts): the run is limited to the members of its Keycloak group. */
const cohort = z.string().max(56).regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'not a cohort name (DNS-1123 label)');

export const resetRequest = z
  .strictObject({
    username: username.optional(),
    /** `recreate` (default): delete the namespace and make it again; `purge`: empty it in place. */
    mode: z.enum(RESET_MODES).optional(),
    usernamePrefix,
    cohort: cohort.optional().describe('Only the members of this cohort (its Keycloak group `cohort-<name>`).'),
  })
  .refine((request) => !(request.username && request.cohort), { message: 'username and cohort cannot be combined', path: ['cohort'] });
export type ResetRequest = z.infer<typeof resetRequest>;

/**
 * Needed when the cleanup would delete more than CLEANUP_MAX_SHARE_WITHOUT_CONFIRM of the
 * trainees by age (e.g. `maxAgeDays: 0`); without it such a run fails with
 * CONFIRMATION_REQUIRED and deletes nobody.
 */
const confirmMassDelete = z.boolean().optional();

export const cleanupRequest = z.strictObject({
  maxAgeDays: z.number().int().min(0).max(36_500).optional(),
  dryRun: z.boolean().optional(),
  usernamePrefix,
  confirmMassDelete: confirmMassDelete.describe(
    'Required (true) when the cleanup would delete more than CLEANUP_MAX_SHARE_WITHOUT_CONFIRM (default 20%) of the trainees by age; otherwise the run fails with CONFIRMATION_REQUIRED and deletes nobody.',
  ),
});
export type CleanupRequest = z.infer<typeof cleanupRequest>;

export const syncRequest = z.strictObject({
  username: username.optional(),
  usernamePrefix,
  /**
   * Sync never changes a trainee's cluster (Keycloak) password on its own: a missing Grafana
   * user gets the current password, or a new one for Grafana alone. `true`: a trainee whose
   * Grafana user is recreated gets a new password in Keycloak too (both logins share it).
   */
  resetPasswords: z.boolean().optional(),
  dryRun: z
    .boolean()
    .optional()
    .describe(
      'Only report, per user, what sync would repair; change nothing. A run of its own (job id `sync.dry-run`): it neither answers nor replaces a pending real sync, nor the other way round.',
    ),
});
export type SyncRequest = z.infer<typeof syncRequest>;

export const fleetRequestSchemas = { reset: resetRequest, cleanup: cleanupRequest, sync: syncRequest } as const;

// ---- parent job data: the request, fixed at enqueue time, plus the run's own progress ----

export const fanOutState = z.object({
  step: z.enum(['fan-out', 'wait-children', 'aggregate']),
  /** Listing passes: a pass that finds no new user ends the fan-out (cleanup shifts offsets). */
  pass: z.number().int().min(1),
  /** Offset of the next `listManaged` page. */
  cursor: z.number().int().min(0),
  /** Children added in this pass / in the whole run. */
  addedThisPass: z.number().int().min(0),
  added: z.number().int().min(0),
});
export type FanOutState = z.infer<typeof fanOutState>;

const runBase = {
  /** Unique per run: children ids are `<child>-<runId>-<username>`. Lowercase base36, no `-`. */
  runId: z.string().regex(/^[a-z0-9]+$/),
  requestedAt: z.iso.datetime(),
  /** `api`, `schedule`, `cli`…: who asked, for the record. */
  origin: z.string().max(40).default('api'),
  state: fanOutState.optional(),
};

export const resetRunData = z.object({ ...runBase, username: username.optional(), mode: z.enum(RESET_MODES), usernamePrefix, cohort: cohort.optional() });
export const cleanupRunData = z.object({
  ...runBase,
  maxAgeDays: z.number().int().min(0),
  dryRun: z.boolean(),
  usernamePrefix,
  confirmMassDelete,
});
export const syncRunData = z.object({
  ...runBase,
  username: username.optional(),
  usernamePrefix,
  resetPasswords: z.boolean().optional(),
  dryRun: z.boolean().optional(),
});
export type ResetRunData = z.infer<typeof resetRunData>;
export type CleanupRunData = z.infer<typeof cleanupRunData>;
export type SyncRunData = z.infer<typeof syncRunData>;
export type FleetRunData = ResetRunData | CleanupRunData | SyncRunData;
export const fleetRunSchemas = { reset: resetRunData, cleanup: cleanupRunData, sync: syncRunData } as const;

// ---- child job data and results ----

export * from './listed-user.js';

export const resetUserData = z.object({ runId: z.string(), username, mode: z.enum(RESET_MODES), listed: listedUser.optional() });
export const cleanupUserData = z.object({
  runId: z.string(),
  username,
  /** The run's clock: a user created after this minus maxAgeDays is not old. */
  now: z.number().int(),
  maxAgeDays: z.number().int().min(0),
  dryRun: z.boolean(),
});
export const syncUserData = z.object({
  runId: z.string(),
  username,
  resetPasswords: z.boolean().optional(),
  dryRun: z.boolean().optional(),
  /** Dry runs only. */
  listed: listedIdentity.optional(),
});
export type ResetUserData = z.infer<typeof resetUserData>;
export type CleanupUserData = z.infer<typeof cleanupUserData>;
export type SyncUserData = z.infer<typeof syncUserData>;

export const resetUserResult = z.object({
  username,
  reset: z.boolean(),
  mode: z.enum(RESET_MODES),
  /** Why nothing was done (the user is gone or no longer provisioned). */
  skipped: z.string().optional(),
});
export const cleanupUserResult = z.object({
  username,
  userId: z.string().nullable(),
  deleted: z.boolean(),
  dryRun: z.boolean(),
  /** `age` or `expired`: why the user goes. */
  reason: z.enum(['age', 'expired']).optional(),
  skipped: z.string().optional(),
});
export const syncUserResult = z.object({
  username,
  fixedGrafana: z.boolean(),
  fixedNamespace: z.boolean(),
  fixedProvisioned: z.boolean(),
  /** A half-made user that could not be finished and was removed. */
  rolledBack: z.boolean(),
  /** A new password was set; read it (decrypted) through `GET /jobs/<this child's id>`. */
  passwordIssued: z.boolean(),
  /** Grafana got a new password, not the trainee's current one (which the service no longer held, or `resetPasswords`). */
  grafanaPasswordReset: z.boolean().optional(),
  /** The Keycloak (cluster) password was changed: only when the run asked (`resetPasswords`). */
  keycloakPasswordReset: z.boolean().optional(),
  skipped: z.string().optional(),
  error: z.string().optional(),
  /** A dry run's child: `repairs` says what a real sync would do; nothing was changed. */
  dryRun: z.boolean().optional(),
  repairs: z.array(z.string()).optional(),
});
export type ResetUserResult = z.infer<typeof resetUserResult>;
export type CleanupUserResult = z.infer<typeof cleanupUserResult>;
export type SyncUserResult = z.infer<typeof syncUserResult>;

// ---- parent results: the old service's statistics, plus a reason per failure ----

export const fleetFailure = z.object({ username: z.string(), code: z.string(), message: z.string() });
export type FleetFailure = z.infer<typeof fleetFailure>;

/** What a run did, in numbers (`message` is the old service's fixed sentence). */
const summary = z.string().optional();

export const resetRunResult = z.object({
  message: z.string(),
  summary,
  users_processed: z.number().int(),
  namespaces_reset: z.number().int(),
  failed_resets: z.array(z.string()),
  failures: z.array(fleetFailure),
  mode: z.enum(RESET_MODES),
});
export const cleanupRunResult = z.object({
  message: z.string(),
  deleted_users: z.array(z.object({ username: z.string(), user_id: z.string().nullable() })),
  summary,
  /** Usernames, as the old service answered; the reasons are in `failures`. */
  failed_deletions: z.array(z.string()),
  failures: z.array(fleetFailure).optional(),
  total_processed: z.number().int(),
  successfully_deleted: z.number().int(),
  failed: z.number().int(),
  dry_run: z.boolean(),
});
export const syncRunResult = z.object({
  message: z.string(),
  summary,
  results: z.object({
    total_users: z.number().int(),
    fixed_users: z.array(
      z.object({
        username: z.string(),
        fixed_grafana: z.boolean(),
        fixed_namespace: z.boolean(),
        fixed_provisioned: z.boolean(),
        /** Grafana's password is a new one (the trainee's cluster password is unchanged unless keycloak_password_reset). */
        grafana_password_reset: z.boolean().optional(),
        keycloak_password_reset: z.boolean().optional(),
        /** Set when a new password was issued: `GET /jobs/<passwordJobId>` returns it. */
        password_job_id: z.string().optional(),
      }),
    ),
    failed_fixes: z.array(z.object({ username: z.string(), error: z.string() })),
    /** A dry run's findings: per user with something to repair, what a real sync would do. */
    would_repair: z.array(z.object({ username: z.string(), repairs: z.array(z.string()) })).optional(),
  }),
  dry_run: z.boolean().optional(),
});
export type ResetRunResult = z.infer<typeof resetRunResult>;
export type CleanupRunResult = z.infer<typeof cleanupRunResult>;
export type SyncRunResult = z.infer<typeof syncRunResult>;

// ---- ids ----

/**
 * The parent id: fixed per kind (and per user for single-user runs, per cohort for a
 * cohort's) → no overlap. A dry run has ids of its own (`sync.dry-run`,
 * `sync.dry-run-<user>`: a `.` is in no username), so it neither answers nor replaces a
 * real run. The id leaves out the rest of the request (mode, prefix, maxAgeDays, cleanup's dry
 * run), and `reset-cohort-<name>` is also the id of the user `cohort-<name>`'s reset: a pending
 * run asked differently refuses the request (`enqueueFleetRun`) rather than answer it.
 */
export function fleetRunJobId(kind: FleetKind, username?: string, cohortName?: string, dryRun = false): string {
  const base = dryRun ? `${kind}.dry-run` : kind;
  if (cohortName) return `${base}-cohort-${cohortName}`;
  return username ? `${base}-${username}` : base;
}

export function fleetChildJobId(kind: FleetKind, runId: string, username: string): string {
  return `${FLEET_CHILD_OF[kind]}-${runId}-${username}`;
}

/**
 * Reads `{child, runId, username}` back from a child id or a BullMQ job key
 * (`<prefix>:fleet-user:<id>`); undefined when it is not a fleet child.
 */
export function parseFleetChildId(idOrKey: string): { child: FleetChildName; runId: string; username: string } | undefined {
  const id = idOrKey.slice(idOrKey.lastIndexOf(':') + 1);
  const match = /^(reset-user|cleanup-user|sync-user)-([a-z0-9]+)-([a-z0-9][-a-z0-9]*)$/.exec(id);
  if (!match) return undefined;
  return { child: match[1] as FleetChildName, runId: match[2] as string, username: match[3] as string };
}

export function newRunId(now = Date.now()): string {
  return `${now.toString(36)}${Math.floor(Math.random() * 36 ** 4).toString(36).padStart(4, '0')}`;
}

export function isFleetKind(name: string): name is FleetKind {
  return (FLEET_KINDS as readonly string[]).includes(name);
}
