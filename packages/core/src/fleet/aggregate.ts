import type {
  CleanupRunResult,
  CleanupUserResult,
  FleetFailure,
  ResetMode,
  ResetRunResult,
  ResetUserResult,
  SyncRunResult,
  SyncUserResult,
} from '../queue/fleet-contract.js';
import { parseFleetChildId } from '../queue/fleet-contract.js';
import { readJobFailure } from '../queue/error-codes.js';

/** What the children of a run ended with: their results, and the failures of those that gave up. */
export interface ChildOutcomes<R> {
  values: R[];
  failures: FleetFailure[];
}

/**
 * Turns BullMQ's ignored-failure map (`job key → failedReason`) into failures, reading each
 * child's structured failure from its data (`dataOf`) where the worker stored one.
 */
export function failuresFromReasons(reasons: Record<string, string>, dataOf: (key: string) => unknown = () => undefined): FleetFailure[] {
  return Object.entries(reasons)
    .map(([key, failedReason]) => ({ username: parseFleetChildId(key)?.username ?? key, ...readJobFailure({ data: dataOf(key), failedReason }) }))
    .sort((a, b) => a.username.localeCompare(b.username));
}

const byName = <T extends { username: string }>(a: T, b: T) => a.username.localeCompare(b.username);

// `message` is the old service's, word for word (its callers may match it); `summary` says
// what happened in numbers.

export function aggregateReset({ values, failures }: ChildOutcomes<ResetUserResult>, mode: ResetMode, username?: string): ResetRunResult {
  const processed = values.filter((v) => !v.skipped);
  const reset = processed.filter((v) => v.reset).length;
  const total = processed.length + failures.length;
  return {
    message: username ? `Namespace for user ${username} has been reset successfully` : 'All provisioned namespaces have been reset successfully',
    summary: `Reset (${mode}) finished: ${reset} of ${total} namespaces reset${failures.length ? `, ${failures.length} failed` : ''}`,
    users_processed: total,
    namespaces_reset: reset,
    failed_resets: failures.map((f) => f.username),
    failures,
    mode,
  };
}

export function aggregateCleanup({ values, failures }: ChildOutcomes<CleanupUserResult>, dryRun: boolean): CleanupRunResult {
  const chosen = values.filter((v) => !v.skipped && (v.deleted || (dryRun && v.reason))).sort(byName);
  const deleted = chosen.map((v) => ({ username: v.username, user_id: v.userId }));
  const total = chosen.length + failures.length;
  return {
    message: dryRun ? `Dry run: ${deleted.length} users would be deleted; nothing changed` : 'Cleanup completed',
    summary: dryRun
      ? `Dry run: ${deleted.length} users would be deleted; nothing changed`
      : `Cleanup finished: ${deleted.length} of ${total} users deleted${failures.length ? `, ${failures.length} failed` : ''}`,
    deleted_users: deleted,
    // The old type: usernames. Why each failed is in `failures`.
    failed_deletions: failures.map((f) => f.username),
    failures,
    total_processed: total,
    successfully_deleted: dryRun ? 0 : deleted.length,
    failed: failures.length,
    dry_run: dryRun,
  };
}

export function aggregateSync(
  { values, failures }: ChildOutcomes<SyncUserResult>,
  passwordJobId: (username: string) => string,
  username?: string,
  dryRun = false,
): SyncRunResult {
  if (dryRun) return aggregateSyncDryRun({ values, failures });
  const checked = values.filter((v) => !v.skipped).sort(byName);
  const fixed = checked
    .filter((v) => !v.rolledBack && (v.fixedGrafana || v.fixedNamespace || v.fixedProvisioned))
    .map((v) => ({
      username: v.username,
      fixed_grafana: v.fixedGrafana,
      fixed_namespace: v.fixedNamespace,
      fixed_provisioned: v.fixedProvisioned,
      ...(v.fixedGrafana ? { grafana_password_reset: v.grafanaPasswordReset === true, keycloak_password_reset: v.keycloakPasswordReset === true } : {}),
      ...(v.passwordIssued ? { password_job_id: passwordJobId(v.username) } : {}),
    }));
  const failed = [
    ...failures.map((f) => ({ username: f.username, error: `${f.code}: ${f.message}` })),
    ...checked.filter((v) => v.rolledBack).map((v) => ({ username: v.username, error: `rolled back, could not be finished: ${v.error ?? 'unknown'}` })),
  ].sort(byName);
  const total = checked.length + failures.length;
  return {
    message: username ? `Sync completed for user ${username}` : 'Sync completed for all users',
    summary: `Sync finished: ${total} users checked, ${fixed.length} fixed${failed.length ? `, ${failed.length} failed` : ''}`,
    results: { total_users: total, fixed_users: fixed, failed_fixes: failed },
    dry_run: false,
  };
}

/**
 * A sync dry run's result: per user, the repairs a real sync would make (`would_repair`),
 * and the users it would fail on (`failed_fixes`, as a real sync reports them).
 */
export function aggregateSyncDryRun({ values, failures }: ChildOutcomes<SyncUserResult>): SyncRunResult {
  const checked = values.filter((v) => !v.skipped).sort(byName);
  const wouldRepair = checked.filter((v) => (v.repairs ?? []).length > 0).map((v) => ({ username: v.username, repairs: v.repairs ?? [] }));
  const failed = [
    ...failures.map((f) => ({ username: f.username, error: `${f.code}: ${f.message}` })),
    ...checked.filter((v) => v.error !== undefined).map((v) => ({ username: v.username, error: `would fail: ${v.error}` })),
  ].sort(byName);
  const message = `Dry run: ${wouldRepair.length} users would be repaired; nothing changed`;
  return {
    message,
    summary: `${message} (${checked.length + failures.length} users checked${failed.length ? `, ${failed.length} would fail` : ''})`,
    results: { total_users: checked.length + failures.length, fixed_users: [], failed_fixes: failed, would_repair: wouldRepair },
    dry_run: true,
  };
}
