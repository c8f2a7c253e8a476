import { HttpMethod } from './kubernetes-http.js';
import type { KubeHttp } from './kubernetes-http.js';

/** A namespaced resource type that can be emptied with one delete-collection. */
export interface CollectionType {
  /** `/api/v1` or `/apis/<group>/<version>`. */
  basePath: string;
  /** Plural resource name, e.g. `configmaps`. */
  resource: string;
  kind: string;
}

interface ApiResourceList {
  resources?: { name: string; kind: string; namespaced: boolean; verbs?: string[] }[];
}
interface ApiGroupList {
  groups?: { name: string; preferredVersion?: { groupVersion: string } }[];
}

/** Events are the cluster's diary about the namespace, not the trainee's objects. */
const NEVER_PURGED = new Set(['events']);
const CACHE_MS = 60_000;

/**
 * Every namespaced type of the core group and of each API group's preferred version that
 * supports `list` and `deletecollection`. The same for every namespace: cached a minute.
 */
export class CollectionDiscovery {
  readonly #http: KubeHttp;
  #cached: { types: CollectionType[]; until: number } | undefined;

  constructor(http: KubeHttp) {
    this.#http = http;
  }

  async types(signal?: AbortSignal): Promise<CollectionType[]> {
    if (this.#cached && Date.now() < this.#cached.until) return this.#cached.types;
    const groups = (await this.#http.send(HttpMethod.GET, '/apis', { signal })) as ApiGroupList;
    const basePaths = [
      '/api/v1',
      ...(groups.groups ?? []).flatMap((g) => (g.preferredVersion ? [`/apis/${g.preferredVersion.groupVersion}`] : [])),
    ];
    const lists = await Promise.all(basePaths.map((basePath) => this.#resources(basePath, signal)));
    const types = lists.flat();
    this.#cached = { types, until: Date.now() + CACHE_MS };
    return types;
  }

  async #resources(basePath: string, signal: AbortSignal | undefined): Promise<CollectionType[]> {
    let list: ApiResourceList;
    try {
      list = (await this.#http.send(HttpMethod.GET, basePath, { signal })) as ApiResourceList;
    } catch (error) {
      // An aggregated API whose backend is down (503) or just removed (404) holds nothing
      // the apiserver stores for this namespace: skip it, as kubectl does.
      if (statusOf(error) === 503 || statusOf(error) === 404) return [];
      throw error;
    }
    return (list.resources ?? [])
      .filter((r) => r.namespaced && !r.name.includes('/') && !NEVER_PURGED.has(r.name))
      .filter((r) => r.verbs?.includes('list') && r.verbs.includes('deletecollection'))
      .map((r) => ({ basePath, resource: r.name, kind: r.kind }));
  }
}

function statusOf(error: unknown): number | undefined {
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === 'number' ? code : undefined;
}
