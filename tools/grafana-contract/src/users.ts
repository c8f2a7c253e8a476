// New-user values and the JSON shapes Grafana answers with for a user.
import { createHash, randomBytes } from 'node:crypto';
import type { StoredUser } from './store.js';

/** The only organisation: Grafana's default org, which every new user joins. */
export const DEFAULT_ORG_ID = 1;

export function now(): string {
  // Grafana renders Go time.Time values as RFC 3339 without fractional seconds.
  return new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
}

const UID_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';
export function newUid(): string {
  const bytes = randomBytes(14);
  let uid = '';
  for (const b of bytes) uid += UID_ALPHABET[b % UID_ALPHABET.length];
  return uid;
}

function avatarUrl(email: string): string {
  return `/avatar/${createHash('md5').update(email.trim().toLowerCase()).digest('hex')}`;
}

/** `GET /api/users/lookup` and `GET /api/user`. */
export function userProfile(u: StoredUser): Record<string, unknown> {
  return {
    id: u.id,
    uid: u.uid,
    email: u.email,
    name: u.name,
    login: u.login,
    theme: '',
    orgId: u.orgId,
    isGrafanaAdmin: u.isGrafanaAdmin,
    isDisabled: false,
    isExternal: false,
    isExternallySynced: false,
    isGrafanaAdminExternallySynced: false,
    // Grafana leaves this nil (JSON null) for users that did not come from an auth provider.
    authLabels: null,
    updatedAt: u.updatedAt,
    createdAt: u.createdAt,
    avatarUrl: avatarUrl(u.email),
    isProvisioned: false,
  };
}

/** One entry of `GET /api/orgs/:orgId/users`. */
export function orgUser(u: StoredUser): Record<string, unknown> {
  return {
    orgId: u.orgId,
    userId: u.id,
    uid: u.uid,
    email: u.email,
    name: u.name,
    avatarUrl: avatarUrl(u.email),
    login: u.login,
    role: u.role,
    lastSeenAt: u.updatedAt,
    lastSeenAtAge: '',
    authLabels: null,
    isDisabled: false,
    isExternallySynced: false,
    isProvisioned: false,
  };
}
