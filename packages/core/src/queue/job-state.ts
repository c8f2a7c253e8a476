import { z } from 'zod';
import { formatIssues } from './error-codes.js';
import type { CleanupState } from '../fleet/cleanup-user.service.js';
import type { ExpireState } from '../fleet/expiry.service.js';
import type { ResetState } from '../fleet/reset-user.service.js';
import type { SyncState } from '../fleet/sync-user.service.js';
import type { CreateState, DeleteState } from '../provisioning/step-context.js';

/**
 * What a job keeps between its attempts (`job.data.state`, see StepContext) is read back
 * and trusted by the next attempt: it says which Keycloak user, namespace and Grafana
 * account the job made and may remove. Anyone who can write job data (Bull Board's "edit
 * data", Redis) could point it at someone else's; so the worker checks it against these
 * schemas before it does anything, as it checks the job's input, and fails the job for
 * good (`INVALID_JOB_STATE`) when it does not fit. Unknown keys are ignored, as in inputs.
 */

const username = z.string().regex(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/, 'not a DNS-1123 label');
const flags = z.object({ keycloak: z.boolean().optional(), namespace: z.boolean().optional(), grafana: z.boolean().optional() });
/** Keycloak ids are UUIDs; the in-memory identity of the unit tests uses short ids. */
const userId = z.string().regex(/^[A-Za-z0-9-]{1,64}$/, 'not a user id');

export const createJobState = z.object({
  initial: z.enum(['absent', 'partial', 'provisioned']).optional(),
  owned: flags.optional(),
  creatingAt: z.number().int().min(0).optional(),
  userId: userId.optional(),
  grafanaUserId: z.number().int().min(1).optional(),
  createdAt: z.iso.datetime({ offset: true }).optional(),
  expiresAt: z.iso.datetime({ offset: true }).optional(),
}) satisfies z.ZodType<CreateState>;

export const deleteJobState = z.object({
  target: z.object({ username, userId: userId.nullable() }).optional(),
  removed: flags.optional(),
}) satisfies z.ZodType<DeleteState>;

export const cleanupJobState = deleteJobState.extend({
  userId: userId.optional(),
  reason: z.enum(['age', 'expired']).optional(),
}) satisfies z.ZodType<CleanupState>;

export const expireJobState = deleteJobState.extend({ expiresAt: z.string().optional() }) satisfies z.ZodType<ExpireState>;

export const resetJobState = z.object({ namespaceGone: z.boolean().optional() }) satisfies z.ZodType<ResetState>;

export const syncJobState = z.object({
  namespaceMissing: z.boolean().optional(),
  grafanaMissing: z.boolean().optional(),
  wasUnprovisioned: z.boolean().optional(),
  grafanaPassword: z.enum(['current', 'new', 'new-both']).optional(),
  grafanaUserId: z.number().int().min(1).optional(),
}) satisfies z.ZodType<SyncState>;

/** A job's data and state, checked: the input by `input`, `data.state` (when present) by `state`. */
export function parseJobData<I extends z.ZodType>(
  input: I,
  state: z.ZodType,
  data: unknown,
): { ok: true; value: z.infer<I> } | { ok: false; code: 'INVALID_INPUT' | 'INVALID_JOB_STATE'; message: string } {
  const parsed = input.safeParse(data);
  if (!parsed.success) return { ok: false, code: 'INVALID_INPUT', message: formatIssues(parsed.error) };
  const stored = (data as { state?: unknown } | null)?.state;
  if (stored !== undefined) {
    const checked = state.safeParse(stored);
    if (!checked.success) return { ok: false, code: 'INVALID_JOB_STATE', message: formatIssues(checked.error, 'state') };
  }
  return { ok: true, value: parsed.data };
}
