import { ProvisionerError } from '../errors.js';
import type { NamespaceInfo } from '../ports/cluster-gateway.js';
import { MANAGED_BY } from '../ports/identity-provider.js';
import { LABELS } from '../domain/trainee-plan.js';

/** Emails compare case-insensitively; "no email" on both sides is the same. */
export function sameEmail(a: string | undefined, b: string | undefined): boolean {
  return (a ?? '').trim().toLowerCase() === (b ?? '').trim().toLowerCase();
}

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
