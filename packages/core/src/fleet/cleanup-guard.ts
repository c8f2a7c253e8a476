import { ProvisionerError } from '../errors.js';
import type { IdentityProvider } from '../ports/identity-provider.js';
import type { CleanupRunData } from '../queue/fleet-contract.js';
import { DEFAULT_CLEANUP_MAX_AGE_DAYS } from './enqueue-fleet-run.js';
import { cleanupReason, matchesPrefix } from './fleet-context.js';

/** A cleanup that would delete too large a share of the trainees without being asked to. */
export class ConfirmationRequiredError extends ProvisionerError {
  constructor(aged: number, total: number, maxShare: number) {
    super(
      'CONFIRMATION_REQUIRED',
      `this cleanup would delete ${aged} of ${total} trainees by age, more than ${Math.round(maxShare * 100)}% ` +
        '(CLEANUP_MAX_SHARE_WITHOUT_CONFIRM); nobody was deleted. Send "confirmMassDelete": true to go ahead, or "dryRun": true to see who',
    );
  }
}

export interface CleanupGuardOptions {
  /** CLEANUP_MAX_SHARE_WITHOUT_CONFIRM: 0–1; 1 turns the guard off. */
  maxShare: number;
  pageSize: number;
  signal?: AbortSignal | undefined;
}

/**
 * Whether a cleanup run must pass the share check: not a dry run, not confirmed, not the
 * configured (daily) schedule. A scheduled run whose data was changed in Redis to a shorter
 * `maxAgeDays` is held like any other (the schedule check puts the data back, but it may
 * fire first).
 */
export function cleanupNeedsGuard(data: CleanupRunData, maxShare: number): boolean {
  const configuredSchedule = data.origin === 'schedule' && data.maxAgeDays >= DEFAULT_CLEANUP_MAX_AGE_DAYS;
  return maxShare < 1 && !data.dryRun && data.confirmMassDelete !== true && !configuredSchedule;
}

/**
 * `POST /cleanup {"maxAgeDays": 0}` would delete every trainee at once. Before a cleanup
 * deletes anyone, this counts (one paged pass over the managed users in the run's scope)
 * how many it would delete by age, and refuses the run when that is more than `maxShare`
 * of them. Trainees past their own `expires-at` do not count: their expiry was asked for
 * one by one. Throws ConfirmationRequiredError (permanent: the job fails at once).
 */
export async function guardCleanupShare(identity: Pick<IdentityProvider, 'listManaged'>, data: CleanupRunData, options: CleanupGuardOptions): Promise<{ aged: number; total: number }> {
  const now = Date.parse(data.requestedAt);
  let total = 0;
  let aged = 0;
  for (let first: number | undefined = 0; first !== undefined; ) {
    const page = await identity.listManaged(first, options.pageSize, options.signal);
    for (const user of page.users) {
      if (!user.managed || !matchesPrefix(user.username, data.usernamePrefix)) continue;
      total += 1;
      if (cleanupReason(user, now, data.maxAgeDays) === 'age') aged += 1;
    }
    first = page.next;
  }
  if (total > 0 && aged / total > options.maxShare) throw new ConfirmationRequiredError(aged, total, options.maxShare);
  return { aged, total };
}
