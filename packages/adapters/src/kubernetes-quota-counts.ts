import { PURGE_COUNTED_RESOURCES, QUOTA_NAME, countEntryOf } from '@kup/core';
import { HttpMethod, type KubeHttp } from './kubernetes-http.js';

const PAGE_SIZE = 500;
const COUNTED = new Set(PURGE_COUNTED_RESOURCES);

/** What the purge needs of one playground quota: the hard limits asked for, and those the quota controller last saw, with their use. */
export interface QuotaCounts {
  specHard: Readonly<Record<string, string>>;
  statusHard: Readonly<Record<string, string>>;
  used: Readonly<Record<string, string>>;
}

/** A type the worker may not list, as the quota counts it. */
export interface CountableType {
  /** Its key in `ClusterInventory.occupied` (collection path without namespace). */
  key: string;
  /** Its API group ('' for the core group) and plural. */
  group: string;
  resource: string;
}

interface QuotaList {
  metadata?: { continue?: string };
  items?: {
    metadata?: { name?: string; namespace?: string };
    spec?: { hard?: Record<string, string> };
    status?: { hard?: Record<string, string>; used?: Record<string, string> };
  }[];
}

/** Every playground quota in the cluster, by namespace: one paged list (the worker may list quotas, not the objects they count). */
export async function quotaCountsOf(http: KubeHttp, signal: AbortSignal | undefined): Promise<Map<string, QuotaCounts>> {
  const counts = new Map<string, QuotaCounts>();
  let next: string | undefined;
  do {
    const query: Record<string, string> = { limit: String(PAGE_SIZE), fieldSelector: `metadata.name=${QUOTA_NAME}`, ...(next ? { continue: next } : {}) };
    const page = (await http.send(HttpMethod.GET, '/api/v1/resourcequotas', { query, signal })) as QuotaList;
    for (const item of page.items ?? []) {
      const namespace = item.metadata?.namespace;
      if (!namespace || item.metadata?.name !== QUOTA_NAME) continue;
      counts.set(namespace, { specHard: item.spec?.hard ?? {}, statusHard: item.status?.hard ?? {}, used: item.status?.used ?? {} });
    }
    next = page.metadata?.continue || undefined;
  } while (next);
  return counts;
}

/**
 * Whether the quota proves the namespace holds nothing of the type: a `used` of 0. The
 * objects a cluster makes in each namespace (kube-root-ca.crt, the default ServiceAccount)
 * are counted too, and are not subtracted: whether a cluster makes them depends on its
 * controllers, and a count of 1 could be a trainee's object beside a deleted default. So
 * a counted ConfigMap or ServiceAccount type is emptied wherever the cluster keeps its own
 * (the delete spares those by name); the shipped worker role lists ServiceAccounts, so
 * there this costs ConfigMaps alone. Anything short of proof is "may hold some", and the
 * type is emptied:
 * - no playground quota, or no count entry in its spec (a namespace fitted before counts
 *   existed: its next reset or sync applies them);
 * - the entry not yet in `status.hard` with the spec's value: the quota controller has not
 *   synced this spec, and quota admission only counts creates against the entries in
 *   `status.hard`, so a `used` from before then says nothing of objects created since;
 * - `used` missing or not a plain integer.
 * Once the controller has synced the entry, admission raises `used` in the same request
 * that creates an object (before it is stored; a create it refuses is not stored), so a
 * trainee's object created before the inventory is counted. Deletes lower `used` only by
 * the controller's recount from its informer caches. See docs/design.md (purge reset) for
 * the one race that can under-count and what bounds it.
 */
export function quotaSaysEmpty(quota: QuotaCounts | undefined, entry: string): boolean {
  if (!quota || !COUNTED.has(entry)) return false;
  const asked = quota.specHard[entry];
  if (asked === undefined || quota.statusHard[entry] !== asked) return false;
  const used = quota.used[entry];
  if (used === undefined || !/^\d+$/.test(used)) return false;
  return Number(used) === 0;
}

/**
 * Splits the types the worker may not list: those the playground quota counts (`counted`:
 * added to `occupied` in each namespace where the quota does not prove them empty) and the
 * rest (`unlisted`: emptied in every namespace).
 */
export function occupiedByQuota(
  types: readonly CountableType[],
  counts: ReadonlyMap<string, QuotaCounts>,
  namespaces: Iterable<string>,
  occupied: Map<string, Set<string>>,
): { counted: string[]; unlisted: string[] } {
  const counted: { key: string; entry: string }[] = [];
  const unlisted: string[] = [];
  for (const type of types) {
    const entry = countEntryOf(type.group, type.resource);
    if (COUNTED.has(entry)) counted.push({ key: type.key, entry });
    else unlisted.push(type.key);
  }
  if (counted.length === 0) return { counted: [], unlisted };
  for (const namespace of namespaces) {
    const quota = counts.get(namespace);
    for (const { key, entry } of counted) {
      if (quotaSaysEmpty(quota, entry)) continue;
      const set = occupied.get(namespace) ?? new Set<string>();
      set.add(key);
      occupied.set(namespace, set);
    }
  }
  return { counted: counted.map((type) => type.key), unlisted };
}
