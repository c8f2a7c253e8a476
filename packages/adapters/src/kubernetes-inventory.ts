import { ApiException } from '@kubernetes/client-node';
import { ANNOTATIONS, type ClusterInventory, type KeptObject, type NamespaceInfo } from '@kup/core';
import { occupiedByQuota, quotaCountsOf } from './kubernetes-quota-counts.js';
import type { CollectionType } from './kubernetes-discovery.js';
import { HttpMethod, type KubeHttp } from './kubernetes-http.js';

/** Names and labels only: the apiserver sends no object content (no ConfigMap data, no Secret values). */
const METADATA_ONLY = 'application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json';
const PAGE_SIZE = 500;
const LIST_PARALLELISM = 4;

/** Objects the cluster makes in every namespace: not the trainee's, and spared by `purgeTypes`. */
export const CLUSTER_MADE: Readonly<Record<string, string>> = {
  '/api/v1/configmaps': 'kube-root-ca.crt',
  '/api/v1/serviceaccounts': 'default',
};

/** The key of a type in `ClusterInventory.occupied` and `purgeTypes`: its collection path without namespace. */
export const typeKey = (type: Pick<CollectionType, 'basePath' | 'resource'>): string => `${type.basePath}/${type.resource}`;

/** The reverse of `typeKey`: `/api/v1` or `/apis/<group>/<version>`, and the plural. */
export function parseTypeKey(key: string): { basePath: string; resource: string } | undefined {
  const match = /^(\/api\/v1|\/apis\/[a-z0-9][a-z0-9.-]*\/[a-z0-9]+)\/([a-z0-9][a-z0-9.-]*)$/.exec(key);
  return match ? { basePath: match[1] as string, resource: match[2] as string } : undefined;
}

interface MetadataItem {
  metadata?: {
    name?: string;
    namespace?: string;
    uid?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    deletionTimestamp?: string;
    managedFields?: { manager?: string; subresource?: string }[];
  };
}
interface MetadataList {
  metadata?: { continue?: string };
  items?: MetadataItem[];
}

/**
 * One cluster-wide, metadata-only, paged list per type (and one of namespaces). A type the
 * worker may not list (403: the deployed RBAC grants deletecollection only) or that went
 * away (404) is reported in `unlisted`: the caller purges it everywhere, as before.
 */
export async function takeInventory(
  http: KubeHttp,
  types: readonly CollectionType[],
  keep: ReadonlySet<string>,
  fieldManager: string,
  signal?: AbortSignal,
): Promise<ClusterInventory> {
  const takenAt = Date.now();
  const namespaces = new Map<string, NamespaceInfo>();
  const occupied = new Map<string, Set<string>>();
  const kept = new Map<string, Map<string, KeptObject>>();
  const forbidden: CollectionType[] = [];

  for (const { metadata } of await listAll(http, '/api/v1/namespaces', signal)) {
    if (!metadata?.name) continue;
    namespaces.set(metadata.name, {
      name: metadata.name,
      uid: metadata.uid ?? '',
      // Metadata only carries no status: a deletion timestamp is what Terminating means.
      phase: metadata.deletionTimestamp ? 'Terminating' : 'Active',
      labels: metadata.labels ?? {},
      annotations: metadata.annotations ?? {},
    });
  }
  await mapLimit(types, LIST_PARALLELISM, async (type) => {
    const key = typeKey(type);
    let items: MetadataItem[];
    try {
      items = await listAll(http, key, signal);
    } catch (error) {
      if (error instanceof ApiException && (error.code === 403 || error.code === 404)) {
        // A kept kind not listed has no kept objects to show: its namespaces take the slow path.
        if (!keep.has(type.kind)) forbidden.push(type);
        return;
      }
      throw error;
    }
    for (const { metadata } of items) {
      const namespace = metadata?.namespace;
      const name = metadata?.name;
      if (!namespace || !name) continue;
      if (keep.has(type.kind)) {
        const objects = kept.get(namespace) ?? new Map<string, KeptObject>();
        objects.set(`${type.kind}/${name}`, {
          specHash: metadata.annotations?.[ANNOTATIONS.specHash],
          foreignWriter: (metadata.managedFields ?? []).some((f) => f.manager !== fieldManager && !f.subresource),
        });
        kept.set(namespace, objects);
      } else if (CLUSTER_MADE[key] !== name) {
        const set = occupied.get(namespace) ?? new Set<string>();
        set.add(key);
        occupied.set(namespace, set);
      }
    }
  });
  // The types it may not list: the playground quota's object counts tell, where they can be trusted.
  const counts = forbidden.length > 0 ? await quotaCountsOf(http, signal) : new Map();
  const countable = forbidden.map((type) => ({
    key: typeKey(type),
    group: type.basePath === '/api/v1' ? '' : (type.basePath.split('/')[2] as string),
    resource: type.resource,
  }));
  const { counted, unlisted } = occupiedByQuota(countable, counts, namespaces.keys(), occupied);
  return {
    takenAt,
    namespaces,
    occupied: new Map([...occupied].map(([ns, set]) => [ns, [...set].sort()])),
    kept,
    unlisted: unlisted.sort(),
    counted: counted.sort(),
  };
}

async function listAll(http: KubeHttp, path: string, signal: AbortSignal | undefined): Promise<MetadataItem[]> {
  const items: MetadataItem[] = [];
  let next: string | undefined;
  do {
    const query: Record<string, string> = { limit: String(PAGE_SIZE), ...(next ? { continue: next } : {}) };
    const page = (await http.send(HttpMethod.GET, path, { query, accept: METADATA_ONLY, signal })) as MetadataList;
    items.push(...(page.items ?? []));
    next = page.metadata?.continue || undefined;
  } while (next);
  return items;
}

export async function mapLimit<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const item = items[next++] as T;
      await work(item);
    }
  });
  await Promise.all(lanes);
}
