import { namespaceManifest, namespacedManifests, staleObjects, type Trainee } from '../domain/trainee-plan.js';
import type { ClusterGateway } from '../ports/cluster-gateway.js';
import type { FleetSettings } from './fleet-context.js';

/**
 * Writes a trainee's namespace and everything in it (server-side apply: idempotent) and
 * removes what the settings no longer want. Shared by reset and sync.
 */
export async function applyPlayground(
  cluster: ClusterGateway,
  settings: FleetSettings,
  trainee: Trainee,
  signal?: AbortSignal,
): Promise<void> {
  // Removals first: applying the namespace replaces its record of template objects (see staleObjects).
  for (const ref of staleObjects(settings.playground, trainee.username, trainee)) await cluster.delete(ref, signal);
  await cluster.apply(namespaceManifest(settings.playground, trainee), signal);
  for (const object of namespacedManifests(settings.playground, trainee)) await cluster.apply(object, signal);
}
