import { createHash } from 'node:crypto';
import type { KubeObject, ObjectRef } from '../ports/cluster-gateway.js';
import { MANAGED_BY } from '../ports/identity-provider.js';
import { workerEnv, type WorkerEnv } from '../config/env.js';
import { COHORT_LABEL } from '../cohort/contract.js';
import { EGRESS_POLICY_NAME, NETWORK_POLICY_NAME, defaultDenyPolicy, egressPolicy } from './network-policies.js';

/** The Kubernetes side of a playground, decided from configuration and the trainee. */
export interface PlaygroundSettings {
  clusterRole: string;
  subjectMode: 'issuer-sub' | 'username';
  issuer: string;
  usernamePrefix: string;
  quota: {
    pods: number;
    requestsCpu: string;
    requestsMemory: string;
    limitsCpu: string;
    limitsMemory: string;
    servicesLoadBalancers: number;
    servicesNodePorts: number;
    persistentVolumeClaims: number;
    requestsStorage: string;
  };
  limits: { defaultRequestCpu: string; defaultRequestMemory: string; defaultCpu: string; defaultMemory: string };
  defaultDenyNetworkPolicy: boolean;
  /** CIDRs playground pods may not reach; empty: no egress policy. */
  egressDenyCidrs: readonly string[];
  podSecurityLevel: 'baseline' | 'restricted';
  /** Service types the trainee admission policy lets through (written on the namespace). */
  serviceTypes: readonly string[];
  /** The domain trainees' Ingress hosts live under (`<username>.<domain>`); none: no Ingress. */
  ingressDomain: string | undefined;
}

export interface Trainee {
  username: string;
  userId: string;
  email: string | undefined;
  createdAt: string;
  expiresAt: string;
  /** The cohort the trainee belongs to, kept on the namespace (`COHORT_LABEL`) when it is made again. */
  cohort?: string | undefined;
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
  /**
   * Read by the trainee admission policy (k8s/base/trainee-policy.yaml): the Service types
   * allowed, and the host under which Ingresses may live. Only the worker and cluster admins
   * may write a namespace's annotations, so a trainee cannot widen them.
   */
  serviceTypes: 'k8s-user-provisioner/service-types',
  ingressDomain: 'k8s-user-provisioner/ingress-domain',
} as const;

/** Pod Security admission labels (https://kubernetes.io/docs/concepts/security/pod-security-admission/). */
export const POD_SECURITY = {
  enforce: 'pod-security.kubernetes.io/enforce',
  enforceVersion: 'pod-security.kubernetes.io/enforce-version',
  warn: 'pod-security.kubernetes.io/warn',
  warnVersion: 'pod-security.kubernetes.io/warn-version',
  audit: 'pod-security.kubernetes.io/audit',
  auditVersion: 'pod-security.kubernetes.io/audit-version',
} as const;

export const QUOTA_NAME = 'resource-limits';
export const LIMIT_RANGE_NAME = 'default-limits';
export { NETWORK_POLICY_NAME, EGRESS_POLICY_NAME };

/** Kinds a `purge` reset keeps: the playground's own fittings. */
export const PURGE_KEEPS: ReadonlySet<string> = new Set(['ResourceQuota', 'RoleBinding', 'LimitRange', 'NetworkPolicy']);

/** The Kubernetes user name the apiserver gives this trainee's OIDC token. */
export function rbacSubjectName(settings: PlaygroundSettings, trainee: Pick<Trainee, 'username' | 'userId'>): string {
  return settings.subjectMode === 'issuer-sub'
    ? `${settings.issuer}#${trainee.userId}`
    : `${settings.usernamePrefix}${trainee.username}`;
}

/**
 * The namespace: ownership labels, Pod Security (enforced at the configured level, warned
 * and audited at `restricted`, so trainees see what a stricter cluster would refuse), and
 * what the trainee admission policy reads.
 */
export function namespaceManifest(settings: PlaygroundSettings, trainee: Trainee): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: {
      name: trainee.username,
      labels: {
        [LABELS.managedBy]: MANAGED_BY,
        [LABELS.provisioned]: 'true',
        [LABELS.owner]: trainee.username,
        [POD_SECURITY.enforce]: settings.podSecurityLevel,
        [POD_SECURITY.enforceVersion]: 'latest',
        [POD_SECURITY.warn]: 'restricted',
        [POD_SECURITY.warnVersion]: 'latest',
        [POD_SECURITY.audit]: 'restricted',
        [POD_SECURITY.auditVersion]: 'latest',
        ...(trainee.cohort ? { [COHORT_LABEL]: trainee.cohort } : {}),
      },
      annotations: {
        ...(trainee.email ? { [ANNOTATIONS.email]: trainee.email } : {}),
        [ANNOTATIONS.createdAt]: trainee.createdAt,
        [ANNOTATIONS.expiresAt]: trainee.expiresAt,
        [ANNOTATIONS.serviceTypes]: settings.serviceTypes.join(','),
        ...(settings.ingressDomain ? { [ANNOTATIONS.ingressDomain]: `${trainee.username}.${settings.ingressDomain}` } : {}),
      },
    },
  };
}

/**
 * What lives inside the namespace, in apply order. A network policy switched off is not
 * listed here, and `staleObjects` names it for removal.
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
          'services.loadbalancers': String(settings.quota.servicesLoadBalancers),
          'services.nodeports': String(settings.quota.servicesNodePorts),
          persistentvolumeclaims: String(settings.quota.persistentVolumeClaims),
          'requests.storage': settings.quota.requestsStorage,
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
  if (settings.defaultDenyNetworkPolicy) objects.push(defaultDenyPolicy(namespace, labels));
  if (settings.egressDenyCidrs.length > 0) objects.push(egressPolicy(namespace, labels, settings.egressDenyCidrs));
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

/** Objects the settings no longer want (a network policy once it is switched off). */
export function staleObjects(settings: PlaygroundSettings, namespace: string): ObjectRef[] {
  const policy = (name: string): ObjectRef => ({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', name, namespace });
  return [
    ...(settings.defaultDenyNetworkPolicy ? [] : [policy(NETWORK_POLICY_NAME)]),
    ...(settings.egressDenyCidrs.length > 0 ? [] : [policy(EGRESS_POLICY_NAME)]),
  ];
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
  'NETWORK_POLICY_EGRESS_DENY_CIDRS',
  'POD_SECURITY_LEVEL',
  'QUOTA_SERVICES_LOADBALANCERS',
  'QUOTA_SERVICES_NODEPORTS',
  'QUOTA_PERSISTENT_VOLUME_CLAIMS',
  'QUOTA_REQUESTS_STORAGE',
  'TRAINEE_SERVICE_TYPES',
  'TRAINEE_INGRESS_DOMAIN',
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
      servicesLoadBalancers: config.QUOTA_SERVICES_LOADBALANCERS,
      servicesNodePorts: config.QUOTA_SERVICES_NODEPORTS,
      persistentVolumeClaims: config.QUOTA_PERSISTENT_VOLUME_CLAIMS,
      requestsStorage: config.QUOTA_REQUESTS_STORAGE,
    },
    limits: {
      defaultRequestCpu: config.LIMIT_DEFAULT_REQUEST_CPU,
      defaultRequestMemory: config.LIMIT_DEFAULT_REQUEST_MEMORY,
      defaultCpu: config.LIMIT_DEFAULT_CPU,
      defaultMemory: config.LIMIT_DEFAULT_MEMORY,
    },
    defaultDenyNetworkPolicy: config.NETWORK_POLICY_DEFAULT_DENY,
    egressDenyCidrs: config.NETWORK_POLICY_EGRESS_DENY_CIDRS,
    podSecurityLevel: config.POD_SECURITY_LEVEL,
    serviceTypes: config.TRAINEE_SERVICE_TYPES,
    ingressDomain: config.TRAINEE_INGRESS_DOMAIN,
  };
}
