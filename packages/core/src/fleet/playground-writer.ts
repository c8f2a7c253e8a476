import { namespaceManifest, type Trainee } from '../domain/trainee-plan.js';
import type { ClusterGateway } from '../ports/cluster-gateway.js';
import { ensureFittings } from '../saga/fittings.js';
import type { FleetSettings } from './fleet-context.js';

/**
 * Writes a trainee's namespace and every fitting of the plan, group by group, as a create's
 * steps do (server-side apply: idempotent), and removes what the settings no longer want.
 * Shared by reset and sync.
 */
export async function applyPlayground(cluster: ClusterGateway, settings: FleetSettings, trainee: Trainee, signal?: AbortSignal): Promise<void> {
  await cluster.apply(namespaceManifest(settings.playground, trainee), signal);
  await ensureFittings(cluster, settings.playground, trainee, signal);
}
