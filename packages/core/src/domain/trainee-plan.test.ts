import { describe, expect, it } from 'vitest';
import { MANAGED_BY } from '../ports/identity-provider.js';
import { PURGE_COUNT_CAP, PURGE_COUNTED_RESOURCES } from './purge-counts.js';
import {
  defaultPlaygroundSettings,
  EGRESS_POLICY_NAME,
  LIMIT_RANGE_NAME,
  namespacedManifests,
  namespaceManifest,
  NETWORK_POLICY_NAME,
  playgroundSettings,
  QUOTA_NAME,
  rbacSubjectName,
  staleObjects,
  type PlaygroundSettings,
  type Trainee,
} from './trainee-plan.js';

const config: Parameters<typeof playgroundSettings>[0] = {
  TRAINEE_CLUSTER_ROLE: 'trainee-role',
  RBAC_SUBJECT_MODE: 'issuer-sub',
  OIDC_USERNAME_PREFIX: 'oidc:',
  QUOTA_PODS: 7,
  QUOTA_REQUESTS_CPU: '250m',
  QUOTA_REQUESTS_MEMORY: '1Gi',
  QUOTA_LIMITS_CPU: '2',
  QUOTA_LIMITS_MEMORY: '3Gi',
  LIMIT_DEFAULT_REQUEST_CPU: '20m',
  LIMIT_DEFAULT_REQUEST_MEMORY: '32Mi',
  LIMIT_DEFAULT_CPU: '200m',
  LIMIT_DEFAULT_MEMORY: '128Mi',
  QUOTA_REQUESTS_EPHEMERAL_STORAGE: '1Gi',
  QUOTA_LIMITS_EPHEMERAL_STORAGE: '3Gi',
  LIMIT_DEFAULT_REQUEST_EPHEMERAL_STORAGE: '32Mi',
  LIMIT_DEFAULT_EPHEMERAL_STORAGE: '128Mi',
  NETWORK_POLICY_DEFAULT_DENY: false,
  NETWORK_POLICY_EGRESS_DENY_CIDRS: [],
  POD_SECURITY_LEVEL: 'baseline',
  QUOTA_SERVICES_LOADBALANCERS: 0,
  QUOTA_SERVICES_NODEPORTS: 1,
  QUOTA_PERSISTENT_VOLUME_CLAIMS: 4,
  QUOTA_REQUESTS_STORAGE: '8Gi',
  TRAINEE_SERVICE_TYPES: ['ClusterIP'],
  TRAINEE_INGRESS_DOMAIN: undefined,
  QUOTA_PROFILES_FILE: undefined,
  DEFAULT_QUOTA_PROFILE: 'medium',
  PLAYGROUND_TEMPLATES: undefined,
};
const ISSUER = 'https://kc.example/realms/playground';
const settings = (overrides: Partial<typeof config> = {}): PlaygroundSettings => playgroundSettings({ ...config, ...overrides }, ISSUER);

const trainee: Trainee = {
  username: 'jean-dupont',
  userId: '6f1c2d3e-0000-4000-8000-000000000001',
  email: 'Jean.Dupont@x.io',
  createdAt: '2026-11-25T10:00:00.000Z',
  expiresAt: '2027-11-25T10:00:00.000Z',
};

const byKind = (objects: ReturnType<typeof namespacedManifests>) => new Map(objects.map((o) => [o.kind, o as Record<string, any>]));

describe('namespaceManifest', () => {
  it('names the namespace after the trainee and carries the old labels plus the owner', () => {
    const ns = namespaceManifest(settings(), trainee);
    expect(ns).toMatchObject({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'jean-dupont' } });
    expect(ns.metadata.labels).toMatchObject({ 'managed-by': MANAGED_BY, provisioned: 'true', 'k8s-user-provisioner/owner': 'jean-dupont' });
    expect(MANAGED_BY).toBe('k8s-provisioner');
  });

  it('enforces the configured Pod Security level, and warns and audits at restricted', () => {
    const podSecurity = (s: PlaygroundSettings) =>
      Object.fromEntries(Object.entries(namespaceManifest(s, trainee).metadata.labels ?? {}).filter(([k]) => k.startsWith('pod-security.kubernetes.io/')));
    expect(podSecurity(settings())).toEqual({
      'pod-security.kubernetes.io/enforce': 'baseline',
      'pod-security.kubernetes.io/enforce-version': 'latest',
      'pod-security.kubernetes.io/warn': 'restricted',
      'pod-security.kubernetes.io/warn-version': 'latest',
      'pod-security.kubernetes.io/audit': 'restricted',
      'pod-security.kubernetes.io/audit-version': 'latest',
    });
    expect(podSecurity(settings({ POD_SECURITY_LEVEL: 'restricted' }))['pod-security.kubernetes.io/enforce']).toBe('restricted');
  });

  it('annotates email, creation, expiry and the allowed Service types', () => {
    expect(namespaceManifest(settings(), trainee).metadata.annotations).toEqual({
      'k8s-user-provisioner/email': 'Jean.Dupont@x.io',
      'k8s-user-provisioner/created-at': trainee.createdAt,
      'k8s-user-provisioner/expires-at': trainee.expiresAt,
      'k8s-user-provisioner/service-types': 'ClusterIP',
    });
    const wider = namespaceManifest(settings({ TRAINEE_SERVICE_TYPES: ['ClusterIP', 'NodePort'] }), trainee);
    expect(wider.metadata.annotations?.['k8s-user-provisioner/service-types']).toBe('ClusterIP,NodePort');
  });

  it("annotates the trainee's own Ingress domain only when a domain is configured", () => {
    const ns = namespaceManifest(settings({ TRAINEE_INGRESS_DOMAIN: 'apps.example.com' }), trainee);
    expect(ns.metadata.annotations?.['k8s-user-provisioner/ingress-domain']).toBe('jean-dupont.apps.example.com');
    expect(namespaceManifest(settings(), trainee).metadata.annotations).not.toHaveProperty('k8s-user-provisioner/ingress-domain');
  });

  it('leaves the email annotation out when there is no email', () => {
    const annotations = namespaceManifest(settings(), { ...trainee, email: undefined }).metadata.annotations ?? {};
    expect(Object.keys(annotations)).not.toContain('k8s-user-provisioner/email');
  });
});

describe('rbacSubjectName', () => {
  it('is `<issuer>#<user id>` in issuer-sub mode (the old service subject)', () => {
    expect(rbacSubjectName(settings(), trainee)).toBe(`${ISSUER}#${trainee.userId}`);
  });

  it('is `<prefix><username>` in username mode', () => {
    expect(rbacSubjectName(settings({ RBAC_SUBJECT_MODE: 'username' }), trainee)).toBe('oidc:jean-dupont');
    expect(rbacSubjectName(settings({ RBAC_SUBJECT_MODE: 'username', OIDC_USERNAME_PREFIX: '' }), trainee)).toBe('jean-dupont');
  });
});

describe('namespacedManifests', () => {
  it('applies RoleBinding, ResourceQuota and LimitRange in that order, all in the namespace and labelled', () => {
    const objects = namespacedManifests(settings(), trainee);
    expect(objects.map((o) => o.kind)).toEqual(['RoleBinding', 'ResourceQuota', 'LimitRange']);
    for (const o of objects) {
      expect(o.metadata.namespace).toBe('jean-dupont');
      expect(o.metadata.labels).toEqual({ 'managed-by': MANAGED_BY });
    }
  });

  it.each([
    ['issuer-sub', `${ISSUER}#${trainee.userId}`],
    ['username', 'oidc:jean-dupont'],
  ] as const)('binds the trainee to the cluster role in %s mode', (mode, subject) => {
    const binding = byKind(namespacedManifests(settings({ RBAC_SUBJECT_MODE: mode }), trainee)).get('RoleBinding');
    expect(binding?.metadata.name).toBe('jean-dupont');
    expect(binding?.subjects).toEqual([{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: subject }]);
    expect(binding?.roleRef).toEqual({ apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'trainee-role' });
  });

  it('takes the quota from the settings', () => {
    const quota = byKind(namespacedManifests(settings(), trainee)).get('ResourceQuota');
    expect(quota?.metadata.name).toBe(QUOTA_NAME);
    expect(QUOTA_NAME).toBe('resource-limits');
    expect(quota?.spec).toMatchObject({
      hard: {
        pods: '7',
        'requests.cpu': '250m',
        'requests.memory': '1Gi',
        'limits.cpu': '2',
        'limits.memory': '3Gi',
        'services.loadbalancers': '0',
        'services.nodeports': '1',
        persistentvolumeclaims: '4',
        'requests.storage': '8Gi',
        'requests.ephemeral-storage': '1Gi',
        'limits.ephemeral-storage': '3Gi',
        // The object counts a purge reads, the same for every profile.
        'count/configmaps': '100',
        'count/secrets': '100',
        'count/pods': '500',
        'count/deployments.apps': '500',
      },
    });
  });

  it('gives containers default requests and limits, so a pod without them fits the quota', () => {
    const limitRange = byKind(namespacedManifests(settings(), trainee)).get('LimitRange');
    expect(limitRange?.metadata.name).toBe(LIMIT_RANGE_NAME);
    expect(limitRange?.spec).toEqual({
      limits: [
        {
          type: 'Container',
          defaultRequest: { cpu: '20m', memory: '32Mi', 'ephemeral-storage': '32Mi' },
          default: { cpu: '200m', memory: '128Mi', 'ephemeral-storage': '128Mi' },
        },
      ],
    });
  });

  it('adds the default-deny network policy only when enabled', () => {
    expect(namespacedManifests(settings(), trainee).some((o) => o.kind === 'NetworkPolicy')).toBe(false);
    const objects = namespacedManifests(settings({ NETWORK_POLICY_DEFAULT_DENY: true }), trainee);
    const policy = byKind(objects).get('NetworkPolicy');
    expect(objects.at(-1)?.kind).toBe('NetworkPolicy');
    expect(policy?.metadata).toMatchObject({ name: NETWORK_POLICY_NAME, namespace: 'jean-dupont' });
    expect(policy?.spec).toEqual({ podSelector: {}, policyTypes: ['Ingress'], ingress: [{ from: [{ podSelector: {} }] }] });
  });

  it('adds an egress policy denying the configured CIDRs, IPv4 and IPv6 apart, and only when some are', () => {
    const objects = namespacedManifests(settings({ NETWORK_POLICY_EGRESS_DENY_CIDRS: ['169.254.169.254/32', '10.0.0.0/24', 'fd00::/64'] }), trainee);
    const egress = objects.find((o) => o.metadata.name === EGRESS_POLICY_NAME) as Record<string, any> | undefined;
    expect(egress?.kind).toBe('NetworkPolicy');
    expect(egress?.metadata).toMatchObject({ namespace: 'jean-dupont', labels: { 'managed-by': MANAGED_BY } });
    expect(egress?.spec).toEqual({
      podSelector: {},
      policyTypes: ['Egress'],
      egress: [
        {
          to: [
            { namespaceSelector: {} },
            { ipBlock: { cidr: '0.0.0.0/0', except: ['169.254.169.254/32', '10.0.0.0/24'] } },
            { ipBlock: { cidr: '::/0', except: ['fd00::/64'] } },
          ],
        },
      ],
    });
    expect(namespacedManifests(settings(), trainee).some((o) => o.metadata.name === EGRESS_POLICY_NAME)).toBe(false);
  });
});

describe('staleObjects', () => {
  it('names the network policies for removal when they are switched off', () => {
    expect(staleObjects(settings(), 'jean-dupont')).toEqual([
      { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', name: NETWORK_POLICY_NAME, namespace: 'jean-dupont' },
      { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', name: EGRESS_POLICY_NAME, namespace: 'jean-dupont' },
    ]);
  });

  it('names nothing when it is on', () => {
    expect(staleObjects(settings({ NETWORK_POLICY_DEFAULT_DENY: true, NETWORK_POLICY_EGRESS_DENY_CIDRS: ['169.254.169.254/32'] }), 'jean-dupont')).toEqual([]);
  });

  it('never names an object that is also applied', () => {
    for (const enabled of [true, false]) {
      const s = settings({ NETWORK_POLICY_DEFAULT_DENY: enabled, NETWORK_POLICY_EGRESS_DENY_CIDRS: enabled ? [] : ['169.254.169.254/32'] });
      const applied = new Set(namespacedManifests(s, trainee).map((o) => `${o.kind}/${o.metadata.name}`));
      for (const ref of staleObjects(s, trainee.username)) expect(applied.has(`${ref.kind}/${ref.name}`)).toBe(false);
    }
  });
});

describe('defaultPlaygroundSettings', () => {
  it('takes the configuration schema defaults (the old quota) and applies overrides', () => {
    const settings = defaultPlaygroundSettings('https://issuer.test/realms/p', { QUOTA_PODS: 5 });
    expect(settings.clusterRole).toBe('read-write-all-except-resourcequotas');
    expect(settings.subjectMode).toBe('issuer-sub');
    expect(settings.issuer).toBe('https://issuer.test/realms/p');
    expect(settings.quota).toEqual({
      pods: 5,
      requestsCpu: '100m',
      requestsMemory: '2Gi',
      limitsCpu: '500m',
      limitsMemory: '4Gi',
      servicesLoadBalancers: 0,
      servicesNodePorts: 0,
      persistentVolumeClaims: 5,
      requestsStorage: '10Gi',
      requestsEphemeralStorage: '2Gi',
      limitsEphemeralStorage: '5Gi',
    });
  });

  it('is safe by default: baseline Pod Security, both network policies, ClusterIP Services only, no Ingress domain', () => {
    const settings = defaultPlaygroundSettings('https://issuer.test/realms/p');
    expect(settings.podSecurityLevel).toBe('baseline');
    expect(settings.defaultDenyNetworkPolicy).toBe(true);
    expect(settings.egressDenyCidrs).toEqual(['169.254.169.254/32', 'fd00:ec2::254/128']);
    expect(settings.serviceTypes).toEqual(['ClusterIP']);
    expect(settings.ingressDomain).toBeUndefined();
  });
});

describe('spec-hash annotation', () => {
  const hashes = (s: PlaygroundSettings, who: Trainee = trainee) =>
    Object.fromEntries(namespacedManifests(s, who).map((o) => [o.kind, o.metadata.annotations?.['k8s-user-provisioner/spec-hash']]));

  it('is on every fitting, the same for the same plan, and changes with what the fitting says', () => {
    const base = hashes(settings({ NETWORK_POLICY_DEFAULT_DENY: true }));
    expect(Object.keys(base).sort()).toEqual(['LimitRange', 'NetworkPolicy', 'ResourceQuota', 'RoleBinding']);
    for (const hash of Object.values(base)) expect(hash).toMatch(/^[0-9a-f]{16}$/);
    expect(hashes(settings({ NETWORK_POLICY_DEFAULT_DENY: true }))).toEqual(base);
    const fewerPods = hashes(settings({ NETWORK_POLICY_DEFAULT_DENY: true, QUOTA_PODS: 3 }));
    expect(fewerPods.ResourceQuota).not.toBe(base.ResourceQuota);
    expect(fewerPods.LimitRange).toBe(base.LimitRange);
    expect(hashes(settings({ NETWORK_POLICY_DEFAULT_DENY: true }), { ...trainee, userId: 'someone-else' }).RoleBinding).not.toBe(base.RoleBinding);
  });
});

describe('the quota counts a purge reads', () => {
  it('counts every built-in type the trainee role may create, under a cap', () => {
    const quota = byKind(namespacedManifests(settings(), trainee)).get('ResourceQuota');
    const hard: Record<string, string> = quota?.spec?.hard ?? {};
    const counts = Object.keys(hard).filter((key) => key.startsWith('count/'));
    expect(counts.sort()).toEqual([...PURGE_COUNTED_RESOURCES].sort());
    // ConfigMaps and Secrets hold up to 1 MiB each: fewer of them, so one trainee cannot fill etcd.
    // One PodDisruptionBudget: two over the same pod block every drain of its node.
    const capOf = (key: string): string =>
      key === 'count/configmaps' || key === 'count/secrets' ? '100' : key === 'count/poddisruptionbudgets.policy' ? '1' : PURGE_COUNT_CAP;
    for (const key of counts) expect(hard[key], key).toBe(capOf(key));
    expect(PURGE_COUNT_CAP).toBe('500');
  });
});
