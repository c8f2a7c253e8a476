import { createHash } from 'node:crypto';
import type { KubeObject, ObjectRef } from '../ports/cluster-gateway.js';
import { MANAGED_BY } from '../ports/identity-provider.js';
import { EGRESS_POLICY_NAME, NETWORK_POLICY_NAME, defaultDenyPolicy, egressPolicy } from './network-policies.js';
import { unknownProfileMessage, type LimitValues, type QuotaProfile, type QuotaValues } from './quota-profiles.js';
import { InvalidInputError } from '../errors.js';
import type { PlaygroundTemplate, TemplateVariables } from './templates/template-files.js';
import { droppedTemplateObjects, renderTemplate, templateRecord } from './templates/template-render.js';
import { purgeCountEntries } from './purge-counts.js';

/** The Kubernetes side of a playground, decided from configuration and the trainee. */
export interface PlaygroundSettings {
  clusterRole: string;
  subjectMode: 'issuer-sub' | 'username';
  issuer: string;
  usernamePrefix: string;
  /** The default profile's quota and limits (a trainee without a known profile gets these). */
  quota: QuotaValues;
  limits: LimitValues;
  /** Every quota profile by name (built-in and QUOTA_PROFILES_FILE's), and the default's name. */
  profiles: Readonly<Record<string, QuotaProfile>>;
  defaultProfile: string;
  /** PLAYGROUND_TEMPLATES: operator objects rendered into every playground. */
  templates: readonly PlaygroundTemplate[];
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
  /** The quota profile asked for at create, or recorded on the namespace; default when unset or unknown. */
  profile?: string | undefined;
  /** The cohort the trainee belongs to: a template variable, and kept on the namespace (`LABELS.cohort`) when it is made again. */
  cohort?: string | undefined;
  /** What the namespace recorded of its template objects before this write (`ANNOTATIONS.templates`). */
  recordedTemplates?: string | undefined;
}

export const LABELS = {
  managedBy: 'managed-by',
  provisioned: 'provisioned',
  owner: 'k8s-user-provisioner/owner',
  /** The trainee's quota profile: on the namespace, so it survives Redis; sync and reset read it. */
  profile: 'k8s-user-provisioner/profile',
  cohort: 'k8s-user-provisioner/cohort',
  /** On every object rendered from PLAYGROUND_TEMPLATES. */
  template: 'k8s-user-provisioner/template',
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
  /**
   * The template objects last applied to the namespace (`apiVersion:Kind:name`, comma-separated):
   * what sync and reset delete once a template is dropped.
   */
  templates: 'k8s-user-provisioner/templates',
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

/** The trainee's profile: the one recorded or asked for when it still exists, else the default. */
export function profileOf(settings: PlaygroundSettings, trainee: Pick<Trainee, 'profile'>): { name: string; profile: QuotaProfile } {
  const name = trainee.profile !== undefined && Object.hasOwn(settings.profiles, trainee.profile) ? trainee.profile : settings.defaultProfile;
  // The default's values are `quota` and `limits` themselves.
  const profile = name === settings.defaultProfile ? undefined : settings.profiles[name];
  return { name, profile: profile ?? { quota: settings.quota, limits: settings.limits } };
}

/** A create that names a profile this configuration lacks is refused (the API checks first; settings may differ). */
export function assertKnownProfile(settings: PlaygroundSettings, name: string | undefined): void {
  if (name !== undefined && !Object.hasOwn(settings.profiles, name)) throw new InvalidInputError(unknownProfileMessage(name, Object.keys(settings.profiles)));
}

/** The values templates are rendered with for this trainee. */
export function templateVariables(trainee: Trainee): TemplateVariables {
  return { username: trainee.username, namespace: trainee.username, cohort: trainee.cohort ?? '', email: trainee.email ?? '' };
}

/** The PLAYGROUND_TEMPLATES objects for this trainee, rendered, in template order. */
export function templateObjects(settings: PlaygroundSettings, trainee: Trainee): KubeObject[] {
  const labels = { [LABELS.managedBy]: MANAGED_BY, [LABELS.template]: 'true' };
  return settings.templates.map((template) => renderTemplate(template, templateVariables(trainee), labels));
}

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
        [LABELS.profile]: profileOf(settings, trainee).name,
        [POD_SECURITY.enforce]: settings.podSecurityLevel,
        [POD_SECURITY.enforceVersion]: 'latest',
        [POD_SECURITY.warn]: 'restricted',
        [POD_SECURITY.warnVersion]: 'latest',
        [POD_SECURITY.audit]: 'restricted',
        [POD_SECURITY.auditVersion]: 'latest',
        ...(trainee.cohort ? { [LABELS.cohort]: trainee.cohort } : {}),
      },
      annotations: {
        ...(trainee.email ? { [ANNOTATIONS.email]: trainee.email } : {}),
        [ANNOTATIONS.createdAt]: trainee.createdAt,
        [ANNOTATIONS.expiresAt]: trainee.expiresAt,
        [ANNOTATIONS.serviceTypes]: settings.serviceTypes.join(','),
        ...(settings.ingressDomain ? { [ANNOTATIONS.ingressDomain]: `${trainee.username}.${settings.ingressDomain}` } : {}),
        ...(settings.templates.length > 0 ? { [ANNOTATIONS.templates]: templateRecord(templateObjects(settings, trainee)) } : {}),
      },
    },
  };
}

/**
 * What lives inside the namespace, in apply order: the fittings, then the template objects.
 * A network policy switched off or a template dropped is not listed here, and
 * `staleObjects` names it for removal.
 */
export function namespacedManifests(settings: PlaygroundSettings, trainee: Trainee): KubeObject[] {
  return unhashedManifests(settings, trainee).map(withSpecHash);
}

/** `namespacedManifests` without their spec-hash annotations: enough to tell which objects the plan holds. */
function unhashedManifests(settings: PlaygroundSettings, trainee: Trainee): KubeObject[] {
  const namespace = trainee.username;
  const labels = { [LABELS.managedBy]: MANAGED_BY };
  const { quota, limits } = profileOf(settings, trainee).profile;
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
          pods: String(quota.pods),
          'requests.cpu': quota.requestsCpu,
          'requests.memory': quota.requestsMemory,
          'limits.cpu': quota.limitsCpu,
          'limits.memory': quota.limitsMemory,
          'services.loadbalancers': String(quota.servicesLoadBalancers),
          'services.nodeports': String(quota.servicesNodePorts),
          persistentvolumeclaims: String(quota.persistentVolumeClaims),
          'requests.storage': quota.requestsStorage,
          'requests.ephemeral-storage': quota.requestsEphemeralStorage,
          'limits.ephemeral-storage': quota.limitsEphemeralStorage,
          // What a purge reads instead of listing the trainee's objects (see purge-counts.ts).
          ...purgeCountEntries(),
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
            defaultRequest: { cpu: limits.defaultRequestCpu, memory: limits.defaultRequestMemory, 'ephemeral-storage': limits.defaultRequestEphemeralStorage },
            default: { cpu: limits.defaultCpu, memory: limits.defaultMemory, 'ephemeral-storage': limits.defaultEphemeralStorage },
          },
        ],
      },
    },
  ];
  if (settings.defaultDenyNetworkPolicy) objects.push(defaultDenyPolicy(namespace, labels));
  if (settings.egressDenyCidrs.length > 0) objects.push(egressPolicy(namespace, labels, settings.egressDenyCidrs));
  objects.push(...templateObjects(settings, trainee));
  return objects;
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

/**
 * Objects the settings no longer want: a network policy once it is switched off, and, given
 * the trainee as read before this write (`recordedTemplates`), the template objects the
 * namespace recorded that the templates no longer give. Remove these BEFORE applying the
 * namespace, which overwrites the record: a crash in between then leaves the old record,
 * and the next run deletes them again.
 */
export function staleObjects(settings: PlaygroundSettings, namespace: string, trainee?: Trainee): ObjectRef[] {
  const policy = (name: string): ObjectRef => ({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', name, namespace });
  const fittings = trainee ? unhashedManifests({ ...settings, templates: [] }, trainee) : [];
  const isFitting = (ref: ObjectRef) => fittings.some((o) => o.kind === ref.kind && o.metadata.name === ref.name);
  const dropped = trainee ? droppedTemplateObjects(trainee.recordedTemplates, templateObjects(settings, trainee), namespace) : [];
  return [
    ...(settings.defaultDenyNetworkPolicy ? [] : [policy(NETWORK_POLICY_NAME)]),
    ...(settings.egressDenyCidrs.length > 0 ? [] : [policy(EGRESS_POLICY_NAME)]),
    // A record never removes a fitting of the playground, whatever it says.
    ...dropped.filter((ref) => !isFitting(ref)),
  ];
}

export * from './playground-settings.js';
