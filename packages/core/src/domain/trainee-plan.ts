import { createHash } from 'node:crypto';
import type { KubeObject, ObjectRef } from '../ports/cluster-gateway.js';
import { MANAGED_BY } from '../ports/identity-provider.js';
import { workerEnv, type WorkerEnv } from '../config/env.js';

/** The Kubernetes side of a playground, decided from configuration and the trainee. */
export interface PlaygroundSettings {
  clusterRole: string;
  subjectMode: 'issuer-sub' | 'username';
  issuer: string;
  usernamePrefix: string;
  quota: { pods: number; requestsCpu: string; requestsMemory: string; limitsCpu: string; limitsMemory: string };
  limits: { defaultRequestCpu: string; defaultRequestMemory: string; defaultCpu: string; defaultMemory: string };
  defaultDenyNetworkPolicy: boolean;
}

export interface Trainee {
  username: string;
  userId: string;
  email: string | undefined;
  createdAt: string;
  expiresAt: string;
}

export const LABELS = {
  managedBy: 'managed-by',
  provisioned: 'provisioned',
  owner: 'k8s-user-provisioner/owner',
} as const;

export const ANNOTATIONS = {
  email: 'k8s-user-provisioner/email',
  createdAt: 'k8s-user-provisioner/created-at',
  expiresAt: 'k8s-user-provisioner/expires-at',
  /** On each fitting: a hash of what the plan applied, so a purge reset can tell it is current. */
  specHash: 'k8s-user-provisioner/spec-hash',
} as const;

export const QUOTA_NAME = 'resource-limits';
export const LIMIT_RANGE_NAME = 'default-limits';
export const NETWORK_POLICY_NAME = 'default-deny';

/** Kinds a `purge` reset keeps: the playground's own fittings. */
export const PURGE_KEEPS: ReadonlySet<string> = new Set(['ResourceQuota', 'RoleBinding', 'LimitRange', 'NetworkPolicy']);

/** The Kubernetes user name the apiserver gives this trainee's OIDC token. */
export function rbacSubjectName(settings: PlaygroundSettings, trainee: Pick<Trainee, 'username' | 'userId'>): string {
  return settings.subjectMode === 'issuer-sub'
    ? `${settings.issuer}#${trainee.userId}`
    : `${settings.usernamePrefix}${trainee.username}`;
}

export function namespaceManifest(trainee: Trainee): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: {
      name: trainee.username,
      labels: { [LABELS.managedBy]: MANAGED_BY, [LABELS.provisioned]: 'true', [LABELS.owner]: trainee.username },
      annotations: {
        ...(trainee.email ? { [ANNOTATIONS.email]: trainee.email } : {}),
        [ANNOTATIONS.createdAt]: trainee.createdAt,
        [ANNOTATIONS.expiresAt]: trainee.expiresAt,
      },
    },
  };
}

/**
 * What lives inside the namespace, in apply order. When the default-deny policy is off
 * it is not listed here, and `staleObjects` names it for removal.
 */
export function namespacedManifests(settings: PlaygroundSettings, trainee: Trainee): KubeObject[] {
  const namespace = trainee.username;
  const labels = { [LABELS.managedBy]: MANAGED_BY };
  const objects: KubeObject[] = [
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: trainee.username, namespace, labels },
      subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: rbacSubjectName(settings, trainee) }],
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: settings.clusterRole },
    },
    {
      apiVersion: 'v1',
      kind: 'ResourceQuota',
      metadata: { name: QUOTA_NAME, namespace, labels },
      spec: {
        hard: {
          pods: String(settings.quota.pods),
          'requests.cpu': settings.quota.requestsCpu,
          'requests.memory': settings.quota.requestsMemory,
          'limits.cpu': settings.quota.limitsCpu,
          'limits.memory': settings.quota.limitsMemory,
        },
      },
    },
    {
      apiVersion: 'v1',
      kind: 'LimitRange',
      metadata: { name: LIMIT_RANGE_NAME, namespace, labels },
      spec: {
        limits: [
          {
            type: 'Container',
            defaultRequest: { cpu: settings.limits.defaultRequestCpu, memory: settings.limits.defaultRequestMemory },
            default: { cpu: settings.limits.defaultCpu, memory: settings.limits.defaultMemory },
          },
        ],
      },
    },
  ];
  if (settings.defaultDenyNetworkPolicy) objects.push(networkPolicyManifest(namespace));
  return objects.map(withSpecHash);
}

/** The object with its spec-hash annotation: sha256 of its JSON (keys sorted) before annotating. */
function withSpecHash(object: KubeObject): KubeObject {
  const hash = createHash('sha256').update(stableJson(object)).digest('hex').slice(0, 16);
  return { ...object, metadata: { ...object.metadata, annotations: { ...object.metadata.annotations, [ANNOTATIONS.specHash]: hash } } };
}

function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value).filter(([, v]) => v !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

function networkPolicyManifest(namespace: string): KubeObject {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name: NETWORK_POLICY_NAME, namespace, labels: { [LABELS.managedBy]: MANAGED_BY } },
    // Deny all ingress from outside the namespace; pods of the playground still talk.
    spec: { podSelector: {}, policyTypes: ['Ingress'], ingress: [{ from: [{ podSelector: {} }] }] },
  };
}

/** Objects the settings no longer want (the network policy once it is switched off). */
export function staleObjects(settings: PlaygroundSettings, namespace: string): ObjectRef[] {
  return settings.defaultDenyNetworkPolicy
    ? []
    : [{ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', name: NETWORK_POLICY_NAME, namespace }];
}

const PLAYGROUND_KEYS = [
  'TRAINEE_CLUSTER_ROLE',
  'RBAC_SUBJECT_MODE',
  'OIDC_USERNAME_PREFIX',
  'QUOTA_PODS',
  'QUOTA_REQUESTS_CPU',
  'QUOTA_REQUESTS_MEMORY',
  'QUOTA_LIMITS_CPU',
  'QUOTA_LIMITS_MEMORY',
  'LIMIT_DEFAULT_REQUEST_CPU',
  'LIMIT_DEFAULT_REQUEST_MEMORY',
  'LIMIT_DEFAULT_CPU',
  'LIMIT_DEFAULT_MEMORY',
  'NETWORK_POLICY_DEFAULT_DENY',
] as const;

/** The part of the worker's configuration that shapes a playground. */
export type PlaygroundConfig = Pick<WorkerEnv, (typeof PLAYGROUND_KEYS)[number]>;

/**
 * The playground the configuration schema's defaults give, with some keys overridden:
 * for tests and tools that need settings without a whole environment.
 */
export function defaultPlaygroundSettings(issuer: string, overrides: Partial<PlaygroundConfig> = {}): PlaygroundSettings {
  const keys = Object.fromEntries(PLAYGROUND_KEYS.map((key) => [key, true])) as { [K in (typeof PLAYGROUND_KEYS)[number]]: true };
  return playgroundSettings({ ...workerEnv.pick(keys).parse({}), ...overrides }, issuer);
}

export function playgroundSettings(config: PlaygroundConfig, issuer: string): PlaygroundSettings {
  return {
    clusterRole: config.TRAINEE_CLUSTER_ROLE,
    subjectMode: config.RBAC_SUBJECT_MODE,
    issuer,
    usernamePrefix: config.OIDC_USERNAME_PREFIX,
    quota: {
      pods: config.QUOTA_PODS,
      requestsCpu: config.QUOTA_REQUESTS_CPU,
      requestsMemory: config.QUOTA_REQUESTS_MEMORY,
      limitsCpu: config.QUOTA_LIMITS_CPU,
      limitsMemory: config.QUOTA_LIMITS_MEMORY,
    },
    limits: {
      defaultRequestCpu: config.LIMIT_DEFAULT_REQUEST_CPU,
      defaultRequestMemory: config.LIMIT_DEFAULT_REQUEST_MEMORY,
      defaultCpu: config.LIMIT_DEFAULT_CPU,
      defaultMemory: config.LIMIT_DEFAULT_MEMORY,
    },
    defaultDenyNetworkPolicy: config.NETWORK_POLICY_DEFAULT_DENY,
  };
}
