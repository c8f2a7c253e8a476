import { describeError } from '../errors.js';
import type { IdentityUser } from '../ports/identity-provider.js';
import type { SyncUserResult } from '../queue/fleet-contract.js';
import { assertNamespaceFree, defaultGuards, isManagedNamespace, NamespaceConflictError } from '../provisioning/ownership.js';
import { isOurGrafanaAccount, renamedGrafanaAccount } from '../provisioning/steps/grafana-account.js';
import { UsernameConflictError } from '../errors.js';
import type { FleetPorts, FleetSettings } from './fleet-context.js';
import { namespaceViewOf } from './trainee-view.js';

/**
 * Sync's dry run for one trainee: reads Keycloak, Kubernetes and Grafana and says what a
 * real sync (sync-user.service.ts) would repair, writing nothing. Each check mirrors a step
 * of the real sync: the namespace step's ownership and terminating rules, the plan's
 * fittings as the trainee view compares them (trainee-view.ts), the Grafana ownership rule,
 * and the finish-or-roll-back of a user without `provisioned`.
 */
export interface SyncInspectOptions {
  /** True while a create job for this username is queued or running (the real sync skips the user then). */
  createPending?: ((username: string, signal?: AbortSignal) => Promise<boolean>) | undefined;
  resetPasswords?: boolean;
  signal?: AbortSignal | undefined;
  /** The user as the run's listing saw them: then Keycloak is not asked again (the report is as of the listing). */
  listed?: IdentityUser | undefined;
}

const ROLLBACK = 'rollback:';

/** The dry run found a half-made user that a real sync would delete: nothing else applies to it. */
export function wouldRollBack(result: Pick<SyncUserResult, 'repairs'>): boolean {
  return result.repairs?.some((repair) => repair.startsWith(ROLLBACK)) === true;
}

export async function inspectSync(ports: FleetPorts, settings: FleetSettings, username: string, options: SyncInspectOptions = {}): Promise<SyncUserResult> {
  const { signal } = options;
  const none = { username, fixedGrafana: false, fixedNamespace: false, fixedProvisioned: false, rolledBack: false, passwordIssued: false, dryRun: true };
  const user = options.listed ?? (await ports.identity.findUser(username, signal));
  if (!user?.managed) return { ...none, repairs: [], skipped: 'no managed user of that name' };
  if (!user.provisioned && (await options.createPending?.(username, signal))) return { ...none, repairs: [], skipped: 'a create job for this user is pending' };

  const { repairs, conflict } = await findRepairs(ports, settings, user, options);
  if (conflict === undefined) {
    if (!user.provisioned) repairs.push('keycloak: `provisioned` mark missing: the user would be finished and marked');
    return { ...none, repairs };
  }
  const { code, message } = describeError(conflict);
  // The real sync fails a provisioned user on a conflict, and rolls a half-made one back.
  if (user.provisioned) return { ...none, repairs, error: `${code}: ${message}` };
  return { ...none, repairs: [`${ROLLBACK} half-made user cannot be finished (${code}: ${message}): it would be deleted`] };
}

async function findRepairs(
  ports: FleetPorts,
  settings: FleetSettings,
  user: IdentityUser,
  options: SyncInspectOptions,
): Promise<{ repairs: string[]; conflict?: Error }> {
  const { signal } = options;
  const guards = settings.guards ?? defaultGuards();
  const username = user.username;
  const repairs: string[] = [];

  const namespace = await ports.cluster.getNamespace(username, signal);
  if (namespace && !isManagedNamespace(namespace)) return { repairs, conflict: new NamespaceConflictError(username) };
  if (!namespace) {
    try {
      assertNamespaceFree(username, guards);
    } catch (error) {
      return { repairs, conflict: error as Error };
    }
    repairs.push('namespace: missing: it would be created with all its fittings');
  } else if (namespace.phase === 'Terminating') {
    repairs.push('namespace: terminating: sync would wait for it to go, then create it again with all its fittings');
  } else {
    const view = await namespaceViewOf(ports, settings, user, namespace, signal);
    for (const path of view.drift) repairs.push(`namespace: ${path} drifted: it would be applied again`);
    for (const fitting of view.fittings) {
      const what = `${fitting.kind}/${fitting.name}`;
      if (fitting.state === 'missing') repairs.push(`${what}: missing: it would be applied`);
      else if (fitting.state === 'drifted') repairs.push(`${what}: drifted (${(fitting.drift ?? []).join(', ')}): it would be applied again`);
      else if (fitting.state === 'stale') repairs.push(`${what}: stale: it would be deleted`);
    }
  }

  const byLogin = await ports.grafana.findUser(username, signal);
  // A login the trainee renamed leaves their account under its recorded id (sync-user.service.ts does the same).
  const grafanaUser = byLogin ?? (await renamedGrafanaAccount(ports.grafana, user, guards, signal));
  if (!grafanaUser) {
    const password = options.resetPasswords
      ? 'a new password, set in Keycloak too (resetPasswords)'
      : "the trainee's current password while the service holds it, else a new one for Grafana alone";
    repairs.push(`grafana: account missing: it would be created with ${password}`);
  } else if (byLogin && !isOurGrafanaAccount(byLogin, user, {}, guards)) {
    return { repairs, conflict: new UsernameConflictError(username) };
  } else if (user.grafanaUserId !== grafanaUser.id) {
    repairs.push("keycloak: grafanaUserId attribute missing or wrong: the Grafana account's id would be recorded");
  }
  return { repairs };
}
