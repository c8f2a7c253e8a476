import { namespaceManifest, staleObjects, type Trainee } from '../domain/trainee-plan.js';
import type { ClusterGateway } from '../ports/cluster-gateway.js';
import { ensureFittings } from '../saga/fittings.js';
import type { FleetSettings } from './fleet-context.js';

/**
 * Writes a trainee's namespace and every fitting of the plan, group by group (server-side
 * apply: idempotent), and removes what the settings no longer want: a playground laid down
 * in one call, for tests and benchmarks. The operations run the steps (PLAYGROUND_STEPS).
 */
export async function applyPlayground(cluster: ClusterGateway, settings: FleetSettings, trainee: Trainee, signal?: AbortSignal): Promise<void> {
  // Removals first: applying the namespace replaces its record of template objects (see staleObjects).
  for (const ref of staleObjects(settings.playground, trainee.username, trainee)) await cluster.delete(ref, signal);
  await cluster.apply(namespaceManifest(settings.playground, trainee), signal);
  await ensureFittings(cluster, settings.playground, trainee, signal);
}
