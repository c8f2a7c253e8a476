/** Kubernetes as the domain sees it. Implemented by `packages/adapters/src/kubernetes.adapter.ts`. */

/** A Kubernetes object as plain data (`apiVersion`, `kind`, `metadata`, …). */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  [field: string]: unknown;
}

export interface NamespaceInfo {
  name: string;
  uid: string;
  phase: 'Active' | 'Terminating' | string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

export interface ObjectRef {
  apiVersion: string;
  kind: string;
  name: string;
  namespace?: string;
}

/** A kept object (a fitting) as the inventory saw it. */
export interface KeptObject {
  /** Its `k8s-user-provisioner/spec-hash` annotation, if any. */
  specHash: string | undefined;
  /** Someone other than the provisioner has written its content (managedFields, status excepted). */
  foreignWriter: boolean;
}

/**
 * The cluster at one moment, as a purge reset needs it: which purgeable types hold objects
 * in each namespace, and the kept objects. Taken once per fleet run (one list per type,
 * cluster-wide, metadata only) instead of one delete-collection per type per namespace.
 * Objects the cluster makes itself in every namespace (the `kube-root-ca.crt` ConfigMap,
 * the `default` ServiceAccount) do not count as occupying.
 */
export interface ClusterInventory {
  takenAt: number;
  /** Every namespace as it was when the inventory was taken (`Terminating` when it had a deletion timestamp). */
  namespaces: ReadonlyMap<string, NamespaceInfo>;
  /** Namespace name → purgeable types (opaque keys for `purgeTypes`) holding objects. */
  occupied: ReadonlyMap<string, readonly string[]>;
  /** Namespace name → kept objects by `Kind/name`. */
  kept: ReadonlyMap<string, ReadonlyMap<string, KeptObject>>;
  /** Purgeable types that could not be listed (not allowed, gone): to be purged in every namespace. */
  unlisted: readonly string[];
  /**
   * Purgeable types that could not be listed but whose occupancy per namespace came from the
   * playground quota's object counts (`occupied` holds them where a count was not zero or
   * could not be trusted).
   */
  counted?: readonly string[];
}

/** What the cluster's discovery says of a kind. */
export interface KindInfo {
  /** The plural resource name (`configmaps`). */
  resource: string;
  namespaced: boolean;
}

/** One question for a SelfSubjectAccessReview: may this client do `verb` on the resource? */
export interface AccessQuestion {
  verb: string;
  /** The API group; '' for the core group. */
  group: string;
  resource: string;
  /** Unset: in every namespace. */
  namespace?: string;
}

export interface ClusterGateway {
  /** Server-side apply with the provisioner's field manager (forced). */
  apply(object: KubeObject, signal?: AbortSignal): Promise<void>;
  /** Reads an object; undefined when absent. */
  get(ref: ObjectRef, signal?: AbortSignal): Promise<Record<string, unknown> | undefined>;
  /** Returns false when the object did not exist. */
  delete(ref: ObjectRef, signal?: AbortSignal): Promise<boolean>;
  getNamespace(name: string, signal?: AbortSignal): Promise<NamespaceInfo | undefined>;
  /** Starts deleting a namespace; false when it did not exist. */
  deleteNamespace(name: string, signal?: AbortSignal): Promise<boolean>;
  /**
   * Deletes every pod of the namespace with at most `gracePeriodSeconds` (one delete-collection;
   * a missing namespace is no error). A second delete only ever shortens a pod's grace period,
   * so this also cuts short a pod already terminating with the years its spec or its deleter
   * asked for, which would hold the namespace (and the delete waiting on it) that long.
   */
  deletePods(namespace: string, gracePeriodSeconds: number, signal?: AbortSignal): Promise<void>;
  /** Polls until the namespace is gone; throws `TimeoutError` after `timeoutMs`. */
  waitForNamespaceGone(name: string, timeoutMs: number, signal?: AbortSignal): Promise<void>;
  /**
   * Empties a namespace in place: one delete-collection per namespaced resource type that
   * discovery lists, except the kinds in `keep`. Returns the number of types emptied.
   */
  purgeNamespace(name: string, keep: ReadonlySet<string>, signal?: AbortSignal): Promise<number>;
  /** Takes the inventory of every namespace; the kinds in `keep` are reported as kept, not occupying. */
  takeInventory(keep: ReadonlySet<string>, signal?: AbortSignal): Promise<ClusterInventory>;
  /**
   * One delete-collection per type (keys from `ClusterInventory.occupied`) in the namespace,
   * sparing the objects the cluster makes itself. Returns the number of types emptied.
   */
  purgeTypes(name: string, types: readonly string[], signal?: AbortSignal): Promise<number>;
  /** The kind as discovery serves it; undefined when the cluster does not serve that apiVersion and kind. */
  describeKind(apiVersion: string, kind: string, signal?: AbortSignal): Promise<KindInfo | undefined>;
  /** Asks the apiserver (SelfSubjectAccessReview) whether this client's RBAC allows it. */
  mayI(question: AccessQuestion, signal?: AbortSignal): Promise<boolean>;
  /**
   * Sets labels on an existing namespace (absent: a 404 `UpstreamError`) under a field
   * manager of their own, so the playground's apply, which does not list them, keeps them.
   */
  labelNamespace(name: string, labels: Readonly<Record<string, string>>, signal?: AbortSignal): Promise<void>;
}
