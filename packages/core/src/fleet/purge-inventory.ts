import { ANNOTATIONS, namespaceManifest, namespacedManifests, staleObjects, type PlaygroundSettings, type Trainee } from '../domain/trainee-plan.js';
import type { Logger } from '../logging/logger.js';
import { purgeInventoryUnlisted } from '../metrics/fleet.js';
import type { ClusterInventory, NamespaceInfo } from '../ports/cluster-gateway.js';

const DEFAULT_TTL_MS = 10 * 60_000;
const MAX_RUNS = 4;

/**
 * The cluster inventory of each fleet run, taken once per worker process and run: the
 * first purge child of a run starts it, the others (concurrent or later) share the same
 * promise. An entry is dropped `ttlMs` after it was asked for (a longer run takes a new,
 * fresher one) or when it failed (the next child tries again); at most a few runs are kept.
 * The reset is of the state at the inventory's moment: objects created in a namespace
 * after it, of a type that namespace did not hold then, survive that run.
 */
export class InventoryCache {
  readonly #runs = new Map<string, { inventory: Promise<ClusterInventory>; until: number }>();

  constructor(
    private readonly take: () => Promise<ClusterInventory>,
    private readonly ttlMs = DEFAULT_TTL_MS,
    private readonly now: () => number = Date.now,
  ) {}

  get(runId: string): Promise<ClusterInventory> {
    const now = this.now();
    for (const [id, entry] of this.#runs) if (entry.until <= now) this.#runs.delete(id);
    const known = this.#runs.get(runId);
    if (known) return known.inventory;
    while (this.#runs.size >= MAX_RUNS) this.#runs.delete(this.#runs.keys().next().value as string);
    // Not the asking child's signal: one child's abort must not fail the others' inventory.
    const inventory = this.take();
    const entry = { inventory, until: now + this.ttlMs };
    this.#runs.set(runId, entry);
    inventory.catch(() => {
      if (this.#runs.get(runId) === entry) this.#runs.delete(runId);
    });
    return inventory;
  }
}

/**
 * Takes an inventory and tells the operator what it saw: its size and time at info (with
 * how many types it could not list but read from the playground quotas' object counts),
 * and the types it could neither list nor count at warn (with the
 * `kup_purge_inventory_unlisted_types` gauge), since each of those costs one blind
 * delete-collection in every namespace.
 */
export async function takeReportedInventory(take: () => Promise<ClusterInventory>, log: Pick<Logger, 'info' | 'warn'>): Promise<ClusterInventory> {
  const started = Date.now();
  const inventory = await take();
  const ms = Date.now() - started;
  purgeInventoryUnlisted.set(inventory.unlisted.length);
  const size = { namespaces: inventory.namespaces.size, occupiedNamespaces: inventory.occupied.size, countedTypes: inventory.counted?.length ?? 0, ms };
  if (inventory.unlisted.length > 0) {
    log.warn(
      { ...size, unlisted: inventory.unlisted },
      'purge inventory: some types may not be listed; they are emptied blind in every namespace (see docs/operations.md, RBAC)',
    );
  } else {
    log.info(size, 'purge inventory taken');
  }
  return inventory;
}

/**
 * Whether a purge can skip re-applying, from the inventory alone: the namespace (as the
 * inventory saw it) carries the plan's labels and annotations (created-at aside), and each
 * fitting the plan wants was there with the plan's spec hash and written by the
 * provisioner only; the fittings the settings no longer want were gone. Anything else (a
 * fitting deleted, edited by someone else, settings changed): not current.
 */
export function fittingsCurrent(settings: PlaygroundSettings, trainee: Trainee, namespace: NamespaceInfo, inventory: ClusterInventory): boolean {
  const want = namespaceManifest(settings, trainee).metadata;
  for (const [key, value] of Object.entries(want.labels ?? {})) if (namespace.labels[key] !== value) return false;
  for (const [key, value] of Object.entries(want.annotations ?? {})) {
    // created-at is the create's own clock there, Keycloak's createdTimestamp here: both are right.
    if (key !== ANNOTATIONS.createdAt && namespace.annotations[key] !== value) return false;
  }
  const kept = inventory.kept.get(namespace.name);
  for (const object of namespacedManifests(settings, trainee)) {
    const live = kept?.get(`${object.kind}/${object.metadata.name}`);
    if (!live || live.foreignWriter || live.specHash !== object.metadata.annotations?.[ANNOTATIONS.specHash]) return false;
  }
  return staleObjects(settings, namespace.name, trainee).every((ref) => !kept?.has(`${ref.kind}/${ref.name}`));
}

/**
 * The types to empty in a namespace: those it held at the inventory (listed, or counted
 * by its quota, or not provably empty), and those that could neither be listed nor counted.
 */
export function typesToPurge(inventory: ClusterInventory, namespace: string): string[] {
  return [...new Set([...(inventory.occupied.get(namespace) ?? []), ...inventory.unlisted])].sort();
}
