import { namespacedManifests, staleObjects, type PlaygroundSettings, type Trainee } from '../domain/trainee-plan.js';
import type { ClusterGateway, KubeObject, ObjectRef } from '../ports/cluster-gateway.js';

/**
 * The named groups the plan's namespaced objects are applied in, by kind, in this order;
 * the names are the progress steps of a create (`CREATE_STEPS`). The trainee's RoleBinding
 * comes last: until the quota, the limits and the network policies are in place the trainee
 * holds no right in the namespace, so nothing they make escapes them (a recreate reset makes
 * the namespace anew while the trainee's token stays valid). A kind the table does not name
 * is applied with the last group, so an object added to the plan
 * (`namespacedManifests`) is applied by every operation without touching this table; name
 * it here only to give it its own progress step.
 */
export const FITTING_GROUPS = [
  { name: 'quota', kinds: ['ResourceQuota'] },
  { name: 'limits', kinds: ['LimitRange'] },
  { name: 'network-policy', kinds: ['NetworkPolicy'] },
  { name: 'rbac', kinds: ['RoleBinding', 'Role'] },
] as const;

export type FittingGroup = (typeof FITTING_GROUPS)[number]['name'];

const LAST = FITTING_GROUPS.length - 1;

export function fittingGroupOf(kind: string): FittingGroup {
  const index = FITTING_GROUPS.findIndex((group) => (group.kinds as readonly string[]).includes(kind));
  return FITTING_GROUPS[index === -1 ? LAST : index]!.name;
}

/** One group's share of the plan: what it applies and what it removes. */
export interface Fitting {
  group: FittingGroup;
  apply: KubeObject[];
  remove: ObjectRef[];
}

/** The plan's namespaced objects (`namespacedManifests`) and removals (`staleObjects`), by group, in order. */
export function fittingsOf(settings: PlaygroundSettings, trainee: Trainee): Fitting[] {
  const objects = namespacedManifests(settings, trainee);
  const stale = staleObjects(settings, trainee.username, trainee);
  return FITTING_GROUPS.map(({ name }) => ({
    group: name,
    apply: objects.filter((object) => fittingGroupOf(object.kind) === name),
    remove: stale.filter((ref) => fittingGroupOf(ref.kind) === name),
  }));
}

/** Applies one group (server-side apply: idempotent) and removes what the settings no longer want of it. */
export async function ensureFitting(cluster: ClusterGateway, fitting: Fitting, signal?: AbortSignal): Promise<void> {
  for (const object of fitting.apply) await cluster.apply(object, signal);
  for (const ref of fitting.remove) await cluster.delete(ref, signal);
}

/** Every group of the plan, in order: what sync and reset apply, and create step by step. */
export async function ensureFittings(cluster: ClusterGateway, settings: PlaygroundSettings, trainee: Trainee, signal?: AbortSignal): Promise<void> {
  for (const fitting of fittingsOf(settings, trainee)) await ensureFitting(cluster, fitting, signal);
}

/**
 * Applies again the fittings a purge emptied: those of a kind it does not keep (a purge
 * empties a namespace one type at a time, so only whole kinds are kept). None today; a kind
 * added to the plan is then put back instead of lost.
 */
export async function restorePurgedFittings(
  cluster: ClusterGateway,
  settings: PlaygroundSettings,
  trainee: Trainee,
  keeps: ReadonlySet<string>,
  signal?: AbortSignal,
): Promise<void> {
  for (const object of namespacedManifests(settings, trainee)) if (!keeps.has(object.kind)) await cluster.apply(object, signal);
}
