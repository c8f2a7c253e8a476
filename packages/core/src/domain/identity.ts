/**
 * Who a trainee is, as callers describe them (an email, a full name), and what Keycloak
 * accepts of it. Shared by the API, which refuses bad input before enqueueing (a 400 with
 * the reason, not a job that fails later), and the worker.
 */

/** Emails compare case-insensitively; "no email" on both sides is the same. */
export function sameEmail(a: string | undefined, b: string | undefined): boolean {
  return (a ?? '').trim().toLowerCase() === (b ?? '').trim().toLowerCase();
}

/** Full names compare case-insensitively, with runs of white space as one space. */
function normalName(name: string): string {
  return name.trim().replace(/\s+/g, ' ').toLowerCase();
}

/**
 * Whether two descriptions of a trainee may be the same person: the same email (or none on
 * both sides), and the same full name when both give one. A name given on one side only
 * is no contradiction: the email (or its absence) already tells.
 */
export function sameTrainee(
  a: { email?: string | undefined; fullName?: string | undefined },
  b: { email?: string | undefined; fullName?: string | undefined },
): boolean {
  if (!sameEmail(a.email, b.email)) return false;
  if (a.fullName === undefined || b.fullName === undefined) return true;
  return normalName(a.fullName) === normalName(b.fullName);
}

/**
 * Keycloak 26's `person-name-prohibited-characters` validator (on firstName and lastName in
 * the realm's user profile) refuses these: `<>&"$%!#?§;*~/\|^=[]{}()`, vertical white space
 * (Java's `\v`) and control characters (`\p{Cntrl}`).
 */
// eslint-disable-next-line no-control-regex
const PERSON_NAME_PROHIBITED = /[<>&"$%!#?§;*~/\\|^=[\]{}()\n\v\f\r\x85\u2028\u2029\x00-\x1F\x7F]/u;

/** Keycloak's email validator refuses a local part over 64 characters (RFC 5321). */
export const MAX_EMAIL_LOCAL_PART = 64;

/** Why Keycloak would refuse this full name, or undefined when it accepts it. */
export function fullNameProblem(fullName: string): string | undefined {
  const bad = PERSON_NAME_PROHIBITED.exec(fullName)?.[0];
  if (bad === undefined) return undefined;
  const shown = /[\x00-\x1F\x7F\x85\u2028\u2029]/u.test(bad) ? 'control characters and line breaks' : `"${bad}"`;
  return `Keycloak refuses ${shown} in a person's name (its person-name-prohibited-characters validator forbids <>&"$%!#?§;*~/\\|^=[]{}() and control characters)`;
}

/** Why Keycloak would refuse this email, or undefined when it accepts it. */
export function emailProblem(email: string): string | undefined {
  const at = email.lastIndexOf('@');
  const local = at === -1 ? email : email.slice(0, at);
  if (local.length > MAX_EMAIL_LOCAL_PART) return `Keycloak refuses an email whose part before @ is over ${MAX_EMAIL_LOCAL_PART} characters (it has ${local.length})`;
  return undefined;
}
