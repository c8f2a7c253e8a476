import { createJobData } from '../queue/contract.js';
import { deriveUsername } from '../domain/username.js';
import { reservedBy } from '../domain/reserved-names.js';
import type { CohortMember } from './contract.js';

/** One trainee as a cohort request lists them (a JSON item or a CSV row). */
export interface CohortRow {
  email?: string | undefined;
  full_name?: string | undefined;
}

/** Why a row cannot be created; `row` counts trainees from 1 (in a CSV, row N is on line N + 1). */
export interface RowProblem {
  row: number;
  reason: string;
}

export interface CohortPlanOptions {
  /** RESERVED_NAMESPACES. */
  reserved: readonly string[];
  expiresAt?: string | undefined;
}

const blank = (value: string | undefined): string | undefined => (value === undefined || value.trim() === '' ? undefined : value.trim());

/**
 * Checks every row the way a single `POST /provisioner` would (same username derivation,
 * same rules for email and name, reserved namespaces), and that no two rows give the same
 * username. Every problem is reported, so a trainer fixes the whole list at once; the
 * members come back only when there is none.
 */
export function planCohort(rows: readonly CohortRow[], options: CohortPlanOptions): { members: CohortMember[]; problems: RowProblem[] } {
  const members: CohortMember[] = [];
  const problems: RowProblem[] = [];
  const firstRowOf = new Map<string, number>();
  rows.forEach((raw, index) => {
    const row = index + 1;
    const checked = checkRow(raw, options);
    const first = typeof checked === 'string' ? undefined : firstRowOf.get(checked.username);
    if (typeof checked === 'string') problems.push({ row, reason: checked });
    else if (first !== undefined) problems.push({ row, reason: `same username "${checked.username}" as row ${first}` });
    else {
      firstRowOf.set(checked.username, row);
      members.push(checked);
    }
  });
  return { members: problems.length > 0 ? [] : members, problems };
}

/** The member a row gives, or why it gives none. */
function checkRow(raw: CohortRow, options: CohortPlanOptions): CohortMember | string {
  const email = blank(raw.email);
  const fullName = blank(raw.full_name);
  if (email === undefined && fullName === undefined) return 'Email address and full name are missing';
  const username = deriveUsername({ email, fullName });
  if (!username) return 'email and full_name give an empty username: they need at least one letter or digit';
  const parsed = createJobData.safeParse({ username, email, fullName, expiresAt: options.expiresAt });
  if (!parsed.success) {
    const reasons = parsed.error.issues.map((issue) => `${issue.path.join('.') || 'row'}: ${issue.message}`);
    return `cannot provision "${username}": ${reasons.join('; ')}`;
  }
  const reserved = reservedBy(username, options.reserved);
  if (reserved !== undefined) return `namespace "${username}" is reserved for the platform (${reserved})`;
  return { username, ...(email ? { email } : {}), ...(fullName ? { fullName } : {}) };
}
