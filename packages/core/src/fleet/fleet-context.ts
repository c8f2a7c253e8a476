import { oidcIssuer, type WorkerEnv } from '../config/env.js';
import type { PlaygroundSettings, Trainee } from '../domain/trainee-plan.js';
import { ANNOTATIONS, LABELS, playgroundSettings } from '../domain/trainee-plan.js';
import type { ClusterGateway, NamespaceInfo } from '../ports/cluster-gateway.js';
import type { GrafanaGateway, GrafanaRole } from '../ports/grafana-gateway.js';
import type { IdentityProvider, IdentityUser } from '../ports/identity-provider.js';
import { identityGuards, type IdentityGuards } from '../provisioning/ownership.js';

/** The systems and settings a per-trainee fleet operation works with. */
export interface FleetPorts {
  identity: IdentityProvider;
  cluster: ClusterGateway;
  grafana: GrafanaGateway;
}

export interface FleetSettings {
  playground: PlaygroundSettings;
  namespaceDeleteTimeoutMs: number;
  grafanaOrgId: number;
  grafanaRole: GrafanaRole;
  /** Used when a trainee has no `expires-at` anywhere. */
  defaultExpiryDays: number;
  /** Reserved namespaces and Grafana's denied logins (default: `defaultGuards()`). */
  guards?: IdentityGuards;
}

/** The fleet settings the worker's configuration gives. */
export function fleetSettings(config: WorkerEnv): FleetSettings {
  return {
    playground: playgroundSettings(config, oidcIssuer(config)),
    namespaceDeleteTimeoutMs: config.NAMESPACE_DELETE_TIMEOUT_SECONDS * 1000,
    grafanaOrgId: config.GRAFANA_ORG_ID,
    grafanaRole: config.GRAFANA_ROLE,
    defaultExpiryDays: config.DEFAULT_EXPIRY_DAYS,
    guards: identityGuards(config),
  };
}

const DAY_MS = 86_400_000;

/**
 * The trainee as the manifests want it, rebuilt from what survives a lost namespace:
 * Keycloak's id, email, `expires-at` and `createdTimestamp`. The namespace's own
 * annotations are used only when Keycloak has no expiry. Its quota profile comes from the
 * namespace, else Keycloak's `quota-profile`; cohort and template record from the namespace.
 * A creation time Keycloak does not give counts as now (never as long ago).
 */
export function traineeOf(user: IdentityUser, namespace: NamespaceInfo | undefined, defaultExpiryDays: number): Trainee {
  const created = user.createdAt ?? Date.now();
  const createdAt = new Date(created).toISOString();
  const expiresAt =
    user.expiresAt ??
    namespace?.annotations[ANNOTATIONS.expiresAt] ??
    new Date(created + defaultExpiryDays * DAY_MS).toISOString();
  return {
    username: user.username,
    userId: user.id,
    email: user.email,
    createdAt,
    expiresAt,
    profile: namespace?.labels[LABELS.profile] ?? user.profile,
    cohort: namespace?.labels[LABELS.cohort],
    recordedTemplates: namespace?.annotations[ANNOTATIONS.templates],
  };
}

/** Why cleanup removes this user, or undefined when it stays. An unknown creation time is never old. */
export function cleanupReason(user: Pick<IdentityUser, 'createdAt' | 'expiresAt'>, now: number, maxAgeDays: number): 'age' | 'expired' | undefined {
  if (user.expiresAt !== undefined) {
    const expires = Date.parse(user.expiresAt);
    if (Number.isFinite(expires) && expires <= now) return 'expired';
  }
  return user.createdAt !== undefined && user.createdAt <= now - maxAgeDays * DAY_MS ? 'age' : undefined;
}

export function matchesPrefix(username: string, prefix: string | undefined): boolean {
  return prefix === undefined || username.startsWith(prefix);
}
