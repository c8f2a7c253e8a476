/** Kubernetes as the domain sees it. Implemented by `adapters/kubernetes.adapter.ts`. */

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
  /** Polls until the namespace is gone; throws `TimeoutError` after `timeoutMs`. */
  waitForNamespaceGone(name: string, timeoutMs: number, signal?: AbortSignal): Promise<void>;
  /**
   * Empties a namespace in place: one delete-collection per namespaced resource type that
   * discovery lists, except the kinds in `keep`. Returns the number of types emptied.
   */
  purgeNamespace(name: string, keep: ReadonlySet<string>, signal?: AbortSignal): Promise<number>;
}
