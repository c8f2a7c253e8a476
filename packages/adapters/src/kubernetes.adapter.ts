import { delimiter } from 'node:path';
import { ApiException, KubeConfig } from '@kubernetes/client-node';
import {
  TimeoutError,
  UpstreamError,
  timeUpstream,
  type AccessQuestion,
  type ClusterGateway,
  type ClusterInventory,
  type KindInfo,
  type KubeObject,
  type NamespaceInfo,
  type ObjectRef,
} from '@kup/core';
import { CollectionDiscovery } from './kubernetes-discovery.js';
import { HttpMethod, KubeHttp } from './kubernetes-http.js';
import { CLUSTER_MADE, mapLimit, parseTypeKey, takeInventory } from './kubernetes-inventory.js';
import { delay } from './signals.js';

export const FIELD_MANAGER = 'k8s-user-provisioner';
/** Cohort labels: a manager of their own, so the playground's apply (which omits them) keeps them. */
export const LABEL_FIELD_MANAGER = 'k8s-user-provisioner-cohort';
const APPLY_PATCH = 'application/apply-patch+yaml';
const POLL_MS = 300;
/** How often a wait for a Terminating namespace touches it (`#nudge`). */
const NUDGE_MS = 15_000;
/** The annotation a nudge changes: when the provisioner last asked for the namespace's deletion to be looked at. */
export const NUDGE_ANNOTATION = 'k8s-user-provisioner/deletion-nudged-at';
const PURGE_PARALLELISM = 8;
/**
 * Deletes take their options in the query, not as a DeleteOptions body: undici closes an
 * HTTP/1.1 connection after a DELETE that carries a body, so each delete paid a new TLS
 * handshake (test/adapters/purge-keep-alive.test.ts). A purge drains its delete-collections'
 * answers (every deleted object, whole) unparsed: nothing reads them.
 */
const DELETE_IN_BACKGROUND: Readonly<Record<string, string>> = { propagationPolicy: 'Background' };

export interface KubernetesAdapterOptions {
  /** A kubeconfig file; by default `KUBECONFIG`, `~/.kube/config`, then in-cluster. */
  kubeconfig?: string | undefined;
  /** The kubeconfig itself (the old deployment's KUBE_CONFIG, JSON); used only without `kubeconfig`. */
  kubeconfigData?: string | undefined;
  timeoutMs: number;
}

interface NamespaceJson {
  metadata?: { name?: string; uid?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  status?: { phase?: string };
}

/**
 * `ClusterGateway` over the Kubernetes API. Objects go in and come out as plain JSON;
 * every failure leaves through `#call` as an `UpstreamError`.
 */
export class KubernetesClusterGateway implements ClusterGateway {
  readonly #http: KubeHttp;
  readonly #discovery: CollectionDiscovery;

  constructor(options: KubernetesAdapterOptions) {
    const kubeconfig = new KubeConfig();
    // One file is loaded as given; a `:`-separated list is merged by loadFromDefault.
    if (options.kubeconfig && !options.kubeconfig.includes(delimiter)) kubeconfig.loadFromFile(options.kubeconfig);
    else if (!options.kubeconfig && options.kubeconfigData) kubeconfig.loadFromString(options.kubeconfigData);
    else kubeconfig.loadFromDefault();
    this.#http = KubeHttp.create(kubeconfig, options.timeoutMs);
    this.#discovery = new CollectionDiscovery(this.#http);
  }

  /** Closes the kept-alive connections to the apiserver. */
  async close(): Promise<void> {
    await this.#http.close();
  }

  async apply(object: KubeObject, signal?: AbortSignal): Promise<void> {
    await this.#call(`apply ${describe(object)}`, async () => {
      const path = await this.#http.pathOf({ ...object, name: object.metadata.name, namespace: object.metadata.namespace });
      await this.#http.send(HttpMethod.PATCH, path, {
        query: { fieldManager: FIELD_MANAGER, force: 'true' },
        body: object,
        contentType: APPLY_PATCH,
        signal,
        discardBody: true,
      });
    });
  }

  async labelNamespace(name: string, labels: Readonly<Record<string, string>>, signal?: AbortSignal): Promise<void> {
    await this.#call(`label namespace ${name}`, async () => {
      await this.#http.send(HttpMethod.PATCH, `/api/v1/namespaces/${encodeURIComponent(name)}`, {
        // A merge patch, not an apply: it never makes a namespace that is not there (404).
        query: { fieldManager: LABEL_FIELD_MANAGER },
        body: { metadata: { labels } },
        contentType: 'application/merge-patch+json',
        signal,
      });
    });
  }

  async get(ref: ObjectRef, signal?: AbortSignal): Promise<Record<string, unknown> | undefined> {
    return this.#absentAs(undefined, this.#call(`get ${describe(ref)}`, async () => {
      const path = await this.#http.pathOf(ref);
      return (await this.#http.send(HttpMethod.GET, path, { signal, absentAsUndefined: true })) as Record<string, unknown> | undefined;
    }));
  }

  async delete(ref: ObjectRef, signal?: AbortSignal): Promise<boolean> {
    return this.#absentAs(false, this.#call(`delete ${describe(ref)}`, async () => {
      const path = await this.#http.pathOf(ref);
      await this.#http.send(HttpMethod.DELETE, path, { query: DELETE_IN_BACKGROUND, signal });
      return true;
    }));
  }

  async getNamespace(name: string, signal?: AbortSignal): Promise<NamespaceInfo | undefined> {
    const json = await this.#call(`get namespace ${name}`, () =>
      this.#http.send(HttpMethod.GET, `/api/v1/namespaces/${encodeURIComponent(name)}`, { signal, absentAsUndefined: true }),
    );
    return json === undefined ? undefined : toNamespaceInfo(json as NamespaceJson);
  }

  async deleteNamespace(name: string, signal?: AbortSignal): Promise<boolean> {
    try {
      await this.#call(`delete namespace ${name}`, () =>
        this.#http.send(HttpMethod.DELETE, `/api/v1/namespaces/${encodeURIComponent(name)}`, { query: DELETE_IN_BACKGROUND, signal }),
      );
      return true;
    } catch (error) {
      if (error instanceof UpstreamError && error.status === 404) return false;
      // 409: already terminating; the deletion we asked for is under way.
      if (error instanceof UpstreamError && error.status === 409) return true;
      throw error;
    }
  }

  async deletePods(namespace: string, gracePeriodSeconds: number, signal?: AbortSignal): Promise<void> {
    const query = { ...DELETE_IN_BACKGROUND, gracePeriodSeconds: String(gracePeriodSeconds) };
    await this.#absentAs(undefined, this.#call(`delete pods in ${namespace}`, () =>
      this.#http.send(HttpMethod.DELETE, `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods`, { query, discardBody: true, signal }),
    ));
  }

  async waitForNamespaceGone(name: string, timeoutMs: number, signal?: AbortSignal): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let nudgeAt = Date.now() + NUDGE_MS;
    while ((await this.getNamespace(name, signal)) !== undefined) {
      if (Date.now() >= deadline) throw new TimeoutError(`deletion of namespace ${name}`, Math.round(timeoutMs / 1000));
      if (Date.now() >= nudgeAt) {
        await this.#nudge(name, signal);
        nudgeAt = Date.now() + NUDGE_MS;
      }
      await delay(Math.min(POLL_MS, Math.max(0, deadline - Date.now())), signal);
    }
  }

  /**
   * Makes the namespace controller look at a Terminating namespace again. While pods remain,
   * it comes back only after half the longest grace period their specs ask for (not the one
   * they were deleted with), or at its periodic resync (`--namespace-sync-period`, 5 min by
   * default): a pod whose spec asks for years, cut to 30 s by the delete, would hold the
   * namespace for minutes after it is gone. Any change to the namespace brings the controller
   * back within seconds; an annotation is the smallest one. Best effort: the wait goes on
   * polling whatever the answer (a namespace gone in between, a refusal).
   */
  async #nudge(name: string, signal?: AbortSignal): Promise<void> {
    try {
      await this.#call(`nudge namespace ${name}`, () =>
        this.#http.send(HttpMethod.PATCH, `/api/v1/namespaces/${encodeURIComponent(name)}`, {
          query: { fieldManager: FIELD_MANAGER },
          body: { metadata: { annotations: { [NUDGE_ANNOTATION]: new Date().toISOString() } } },
          contentType: 'application/merge-patch+json',
          discardBody: true,
          signal,
        }),
      );
    } catch (error) {
      signal?.throwIfAborted();
      if (!(error instanceof UpstreamError)) throw error;
    }
  }

  async purgeNamespace(name: string, keep: ReadonlySet<string>, signal?: AbortSignal): Promise<number> {
    const types = await this.#call('discover resource types', () => this.#discovery.types(signal));
    const doomed = types.filter((type) => !keep.has(type.kind));
    await mapLimit(doomed, PURGE_PARALLELISM, async (type) => {
      const path = `${type.basePath}/namespaces/${encodeURIComponent(name)}/${type.resource}`;
      // A type removed since discovery (its CRD deleted) has nothing left to delete.
      await this.#absentAs(undefined, this.#call(`delete ${type.resource} in ${name}`, () =>
        this.#http.send(HttpMethod.DELETE, path, { query: DELETE_IN_BACKGROUND, discardBody: true, signal }),
      ));
    });
    return doomed.length;
  }

  async takeInventory(keep: ReadonlySet<string>, signal?: AbortSignal): Promise<ClusterInventory> {
    const types = await this.#call('discover resource types', () => this.#discovery.types(signal));
    return this.#call('list inventory', () => takeInventory(this.#http, types, keep, FIELD_MANAGER, signal));
  }

  async purgeTypes(name: string, types: readonly string[], signal?: AbortSignal): Promise<number> {
    const parsed = types.map((key) => {
      const type = parseTypeKey(key);
      if (!type) throw new UpstreamError('kubernetes', `delete ${key} in ${name}`, 400, { detail: 'not a collection type' });
      return { key, ...type };
    });
    await mapLimit(parsed, PURGE_PARALLELISM, async ({ key, basePath, resource }) => {
      const path = `${basePath}/namespaces/${encodeURIComponent(name)}/${resource}`;
      const spared = CLUSTER_MADE[key];
      const query: Record<string, string> = { ...DELETE_IN_BACKGROUND, ...(spared ? { fieldSelector: `metadata.name!=${spared}` } : {}) };
      await this.#absentAs(undefined, this.#call(`delete ${resource} in ${name}`, () =>
        this.#http.send(HttpMethod.DELETE, path, { query, discardBody: true, signal }),
      ));
    });
    return parsed.length;
  }

  async describeKind(apiVersion: string, kind: string, signal?: AbortSignal): Promise<KindInfo | undefined> {
    signal?.throwIfAborted();
    // 404: the group/version is not served at all.
    const resource = await this.#absentAs(undefined, this.#call(`discover ${kind}`, () => this.#http.kindResource(apiVersion, kind)));
    return resource ? { resource: resource.name, namespaced: resource.namespaced } : undefined;
  }

  async mayI(question: AccessQuestion, signal?: AbortSignal): Promise<boolean> {
    const review = await this.#call(`review access ${question.verb} ${question.resource}`, () =>
      this.#http.send(HttpMethod.POST, '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', {
        body: { apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectAccessReview', spec: { resourceAttributes: question } },
        signal,
      }),
    );
    return (review as { status?: { allowed?: boolean } } | undefined)?.status?.allowed === true;
  }

  /** The one exit for Kubernetes failures; timed under the operation's verb and kind (`apply Namespace`), not its names. */
  async #call<T>(operation: string, request: () => Promise<T>): Promise<T> {
    return timeUpstream('kubernetes', operation.split(' ', 2).join(' '), async () => {
      try {
        return await request();
      } catch (error) {
        throw toUpstreamError(operation, error);
      }
    });
  }

  async #absentAs<T, A>(absent: A, work: Promise<T>): Promise<T | A> {
    try {
      return await work;
    } catch (error) {
      if (error instanceof UpstreamError && error.status === 404) return absent;
      throw error;
    }
  }
}

function toUpstreamError(operation: string, error: unknown): UpstreamError {
  if (error instanceof UpstreamError) return error;
  if (error instanceof ApiException) {
    const body = error.body as { message?: unknown } | undefined;
    const message = typeof body?.message === 'string' ? body.message.slice(0, 300) : undefined;
    return new UpstreamError('kubernetes', operation, error.code, { cause: error, ...(message ? { detail: message } : {}) });
  }
  // client-node's own verdict that discovery does not know the kind: permanent.
  if (error instanceof Error && error.message.startsWith('Unrecognized API version and kind')) {
    return new UpstreamError('kubernetes', operation, 404, { cause: error, detail: 'unknown apiVersion/kind' });
  }
  const reason = error instanceof Error && /abort|timeout/i.test(error.name) ? 'timed out or aborted' : undefined;
  return new UpstreamError('kubernetes', operation, undefined, { cause: error, ...(reason ? { detail: reason } : {}) });
}

function describe(object: { kind: string; name?: string; metadata?: { name: string; namespace?: string }; namespace?: string }): string {
  const name = object.metadata?.name ?? object.name ?? '';
  const namespace = object.metadata?.namespace ?? object.namespace;
  return `${object.kind} ${namespace ? `${namespace}/` : ''}${name}`;
}

function toNamespaceInfo(json: NamespaceJson): NamespaceInfo {
  return {
    name: json.metadata?.name ?? '',
    uid: json.metadata?.uid ?? '',
    phase: json.status?.phase ?? 'Active',
    labels: json.metadata?.labels ?? {},
    annotations: json.metadata?.annotations ?? {},
  };
}
