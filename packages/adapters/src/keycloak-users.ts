import type UserRepresentation from '@keycloak/keycloak-admin-client/lib/defs/userRepresentation.js';
import { MANAGED_BY, type IdentityUser } from '@kup/core';

/**
 * The attributes the provisioner writes; the realm's user profile must declare each
 * (Keycloak 24+ drops undeclared ones): see deploy/keycloak and docs/operations.md.
 */
export const ATTRIBUTES = {
  managedBy: 'managed-by',
  provisioned: 'provisioned',
  expiresAt: 'expires-at',
  grafanaUserId: 'grafana-user-id',
  profile: 'quota-profile',
} as const;
/** `grafana-user-id` of a user made by this version that has no Grafana account recorded yet. */
export const NO_GRAFANA_USER = 'none';
export const MANAGED_QUERY = `${ATTRIBUTES.managedBy}:${MANAGED_BY}`;

export type Attributes = Record<string, string[]>;

function attribute(user: UserRepresentation, name: string): string | undefined {
  const value: unknown = user.attributes?.[name];
  return Array.isArray(value) ? (value[0] as string | undefined) : typeof value === 'string' ? value : undefined;
}

/** Absent → undefined (made before ids were recorded); `none` → null; digits → the id. */
function grafanaUserIdOf(user: UserRepresentation): number | null | undefined {
  const value = attribute(user, ATTRIBUTES.grafanaUserId);
  if (value === undefined) return undefined;
  return /^[0-9]{1,15}$/.test(value) ? Number(value) : null;
}

export function toIdentityUser(user: UserRepresentation): IdentityUser {
  const fullName = [user.firstName, user.lastName].filter((part) => part).join(' ');
  return {
    id: user.id ?? '',
    username: user.username ?? '',
    email: user.email ?? undefined,
    enabled: user.enabled ?? false,
    managed: attribute(user, ATTRIBUTES.managedBy) === MANAGED_BY,
    provisioned: attribute(user, ATTRIBUTES.provisioned) === 'true',
    expiresAt: attribute(user, ATTRIBUTES.expiresAt),
    // Unknown stays unknown: 0 (1970) would make the user a year old to cleanup.
    createdAt: Number.isFinite(user.createdTimestamp) ? user.createdTimestamp : undefined,
    ...(fullName ? { fullName } : {}),
    grafanaUserId: grafanaUserIdOf(user),
    profile: attribute(user, ATTRIBUTES.profile),
  };
}
