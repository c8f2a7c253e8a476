import { NamespaceReservedError, ProvisionerError } from '../errors.js';
import type { NamespaceInfo } from '../ports/cluster-gateway.js';
import type { GrafanaUser } from '../ports/grafana-gateway.js';
import { MANAGED_BY, type IdentityUser } from '../ports/identity-provider.js';
import { LABELS } from '../domain/trainee-plan.js';
import { sameEmail } from '../domain/identity.js';
import { DEFAULT_RESERVED_NAMESPACES, reservedBy } from '../domain/reserved-names.js';

/** The email a Grafana user gets: Grafana needs a unique one, so the login stands in. */
export function grafanaEmail(username: string, email: string | undefined): string {
  return email ?? username;
}

export function isManagedNamespace(namespace: NamespaceInfo): boolean {
  return namespace.labels[LABELS.managedBy] === MANAGED_BY;
}

/** A namespace of that name exists and the provisioner never made it (`default`, `kube-system`…). */
export class NamespaceConflictError extends ProvisionerError {
  constructor(name: string) {
    super('NAMESPACE_CONFLICT', `namespace "${name}" exists and is not managed by the provisioner`);
  }
}

/** A Keycloak user of that name exists and the provisioner never made it. */
export class UnmanagedUserError extends ProvisionerError {
  constructor(username: string) {
    super('UNMANAGED_USER', `user "${username}" exists but is not managed by the provisioner; it is left alone`);
  }
}

/** Another Grafana account already uses the trainee's email under another login. */
export class EmailConflictError extends ProvisionerError {
  constructor(system: string, login: string) {
    super('EMAIL_CONFLICT', `the email is already used by another ${system} account than "${login}"`);
  }
}

/** What the provisioner checks about names and Grafana accounts (from the worker's settings). */
export interface IdentityGuards {
  /** RESERVED_NAMESPACES: patterns of namespaces no trainee may take. */
  reservedNamespaces: readonly string[];
  /** Grafana logins never created, changed or removed: `admin` and GRAFANA_ADMIN_USER. */
  grafanaDeniedLogins: readonly string[];
}

/** The guards when nothing is configured: the default reserved list and Grafana's `admin`. */
export function defaultGuards(grafanaAdminUser?: string): IdentityGuards {
  return {
    reservedNamespaces: DEFAULT_RESERVED_NAMESPACES,
    grafanaDeniedLogins: grafanaAdminUser ? ['admin', grafanaAdminUser.toLowerCase()] : ['admin'],
  };
}

/** Refuses a namespace name on the reserved list. */
export function assertNamespaceFree(namespace: string, guards: IdentityGuards): void {
  const pattern = reservedBy(namespace, guards.reservedNamespaces);
  if (pattern !== undefined) throw new NamespaceReservedError(namespace, pattern);
}

/** Grafana's admin login, the configured admin user and any server admin: never ours. */
export function isDeniedGrafanaUser(user: Pick<GrafanaUser, 'login' | 'isGrafanaAdmin'>, guards: IdentityGuards): boolean {
  return user.isGrafanaAdmin === true || guards.grafanaDeniedLogins.includes(user.login.toLowerCase());
}

/**
 * Whether the Grafana account found under a trainee's login is the one the provisioner
 * made for this Keycloak user. Only what is recorded counts:
 * - `grafana-user-id` holds a number: that account and no other;
 * - it holds `none` (a user made by this version, no account recorded): none is ours —
 *   a job that is itself creating the account decides from its own state instead;
 * - no attribute (a user made before ids were recorded): the migration rule, the login
 *   and the user's own email both match (as such accounts were made), and sync then
 *   records the id.
 * The deny list wins over every record.
 */
export function ownsGrafanaAccount(
  found: GrafanaUser,
  user: Pick<IdentityUser, 'username' | 'email' | 'grafanaUserId'>,
  guards: IdentityGuards,
): boolean {
  if (isDeniedGrafanaUser(found, guards) || found.login.toLowerCase() !== user.username.toLowerCase()) return false;
  if (typeof user.grafanaUserId === 'number') return found.id === user.grafanaUserId;
  if (user.grafanaUserId === null) return false;
  return sameEmail(found.email, grafanaEmail(user.username, user.email));
}

/** The guards the worker's configuration gives. */
export function identityGuards(config: { RESERVED_NAMESPACES: readonly string[]; GRAFANA_ADMIN_USER: string }): IdentityGuards {
  return { ...defaultGuards(config.GRAFANA_ADMIN_USER), reservedNamespaces: config.RESERVED_NAMESPACES };
}
