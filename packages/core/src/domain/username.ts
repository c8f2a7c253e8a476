import { pythonSlugify } from './slug/python-slugify.js';

/** Kubernetes namespace names are DNS-1123 labels: at most 63 characters. */
export const MAX_USERNAME_LENGTH = 63;

export interface Identity {
  email?: string | undefined;
  fullName?: string | undefined;
}

/**
 * Our own rule, applied after the old derivation and never instead of it: a DNS-1123
 * label, at most 63 characters, no leading or trailing `-`.
 */
function toLabel(text: string): string {
  return text.slice(0, MAX_USERNAME_LENGTH).replace(/^-+|-+$/g, '');
}

/** `Jean.Dupont@x.io` → `jean-dupont`: the email's local part, dots to `_`, slugified. */
export function usernameFromEmail(email: string): string {
  const local = email.slice(0, email.lastIndexOf('@') === -1 ? undefined : email.lastIndexOf('@'));
  return toLabel(pythonSlugify(local.replaceAll('.', '_')));
}

/**
 * `Émilie Durand` → `emilie-durand`: spaces to `_`, lowercased, slugified. No trim: the
 * old code had none, and the slug drops leading and trailing separators anyway.
 */
export function usernameFromFullName(fullName: string): string {
  return toLabel(pythonSlugify(fullName.replaceAll(' ', '_').toLowerCase()));
}

/**
 * The usernames an identity may have, most likely first: the email-derived one, then
 * the full-name-derived one (the order the old service tried them in on delete).
 * Empty results are dropped, so an identity of only punctuation has no candidates.
 */
export function usernameCandidates(identity: Identity): string[] {
  const candidates = [
    identity.email ? usernameFromEmail(identity.email) : '',
    identity.fullName ? usernameFromFullName(identity.fullName) : '',
  ].filter((name) => name.length > 0);
  return [...new Set(candidates)];
}

/** The username a create gives: from the email when present, else from the full name. */
export function deriveUsername(identity: Identity): string | undefined {
  return usernameCandidates(identity)[0];
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

export function isValidUsername(name: string): boolean {
  return name.length <= MAX_USERNAME_LENGTH && DNS_LABEL.test(name);
}
