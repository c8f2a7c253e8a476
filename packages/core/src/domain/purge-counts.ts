/**
 * Object-count quota entries the playground's ResourceQuota carries so that a purge can
 * tell, without reading the trainee's objects, which types a namespace holds: the quota
 * controller keeps `status.used` per entry, and quota admission raises it synchronously
 * on every create. The worker may list quotas but not ConfigMaps or Secrets (least
 * privilege), so the quota is its only view of what a namespace holds.
 *
 * One entry per built-in namespaced type a purge empties (the types the trainee role
 * may create, and those the cluster makes for them: endpoints, endpoint slices,
 * controller revisions, …). A type not listed here (a CRD's) is emptied in every
 * namespace, as without counts. The shipped worker role lists ServiceAccounts (they hold
 * no secret), so their count is only read where an overlay takes that right away; it
 * still caps how many a trainee can make.
 */
export const PURGE_COUNTED_RESOURCES: readonly string[] = [
  'count/configmaps',
  'count/endpoints',
  'count/persistentvolumeclaims',
  'count/pods',
  'count/podtemplates',
  'count/replicationcontrollers',
  'count/secrets',
  'count/serviceaccounts',
  'count/services',
  'count/controllerrevisions.apps',
  'count/daemonsets.apps',
  'count/deployments.apps',
  'count/replicasets.apps',
  'count/statefulsets.apps',
  'count/horizontalpodautoscalers.autoscaling',
  'count/cronjobs.batch',
  'count/jobs.batch',
  'count/leases.coordination.k8s.io',
  'count/endpointslices.discovery.k8s.io',
  'count/ingresses.networking.k8s.io',
  'count/poddisruptionbudgets.policy',
  'count/roles.rbac.authorization.k8s.io',
  'count/resourceclaims.resource.k8s.io',
  'count/resourceclaimtemplates.resource.k8s.io',
  'count/csistoragecapacities.storage.k8s.io',
];

/**
 * The cap of each count entry: above what a playground holds (a course's charts and
 * exercises, a Deployment's rollout history), and a bound on what one trainee can put in
 * etcd, which every tenant shares: at most 500 of each type per namespace.
 */
export const PURGE_COUNT_CAP = '500';

/**
 * The types whose objects carry up to 1 MiB of data each: 100 of each, so one trainee
 * holds at most about 200 MiB of them (at 5,000, a script filled a 2 GiB etcd alone).
 */
export const DATA_COUNT_CAPS: Readonly<Record<string, string>> = { 'count/configmaps': '100', 'count/secrets': '100' };

/**
 * Types capped lower for what their objects do to the shared cluster: one
 * PodDisruptionBudget per namespace, because two over the same pod make every eviction of
 * it fail, and with it every drain of its node (the trainee policy,
 * k8s/base/trainee-policy.yaml, keeps the one from blocking drains by itself).
 */
export const CLUSTER_COUNT_CAPS: Readonly<Record<string, string>> = { 'count/poddisruptionbudgets.policy': '1' };

/**
 * The count entries of a playground's quota, `count/<resource>[.<group>]` → cap, written as
 * the apiserver stores the quantity, so the live quota reads back as planned (no drift).
 */
export function purgeCountEntries(): Record<string, string> {
  return Object.fromEntries(PURGE_COUNTED_RESOURCES.map((name) => [name, DATA_COUNT_CAPS[name] ?? CLUSTER_COUNT_CAPS[name] ?? PURGE_COUNT_CAP]));
}

/** The quota entry counting a resource of an API group ('' for the core group). */
export const countEntryOf = (group: string, resource: string): string => (group ? `count/${resource}.${group}` : `count/${resource}`);
