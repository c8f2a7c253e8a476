import { z } from 'zod';
import { bool, int, quantity } from './schema-helpers.js';

/** What each playground gets: its RBAC subject and role, quota, limits, network policies and admission settings (worker). */
export const playgroundEnvShape = {
  /**
   * How the apiserver names OIDC users, and so the RoleBinding subject:
   * `issuer-sub` → `<issuer>#<keycloak user id>`,
   * `username` → `<OIDC_USERNAME_PREFIX><username>`.
   */
  RBAC_SUBJECT_MODE: z.enum(['issuer-sub', 'username']).default('issuer-sub'),
  OIDC_USERNAME_PREFIX: z.string().default('oidc:'),
  TRAINEE_CLUSTER_ROLE: z.string().min(1).default('read-write-all-except-resourcequotas'),
  QUOTA_PODS: int(20, 0),
  QUOTA_REQUESTS_CPU: quantity.default('100m'),
  QUOTA_REQUESTS_MEMORY: quantity.default('2Gi'),
  QUOTA_LIMITS_CPU: quantity.default('500m'),
  QUOTA_LIMITS_MEMORY: quantity.default('4Gi'),
  LIMIT_DEFAULT_REQUEST_CPU: quantity.default('10m'),
  LIMIT_DEFAULT_REQUEST_MEMORY: quantity.default('64Mi'),
  LIMIT_DEFAULT_CPU: quantity.default('100m'),
  LIMIT_DEFAULT_MEMORY: quantity.default('256Mi'),
  /**
   * Node disk (container layers, logs, emptyDir) a playground may use: without it one
   * trainee's pod fills a node's disk and the kubelet evicts other trainees' pods.
   */
  QUOTA_REQUESTS_EPHEMERAL_STORAGE: quantity.default('2Gi'),
  QUOTA_LIMITS_EPHEMERAL_STORAGE: quantity.default('5Gi'),
  LIMIT_DEFAULT_REQUEST_EPHEMERAL_STORAGE: quantity.default('64Mi'),
  LIMIT_DEFAULT_EPHEMERAL_STORAGE: quantity.default('256Mi'),
  // Trainee namespace hardening: Pod Security, quota, network, admission.
  /** Pod Security level enforced on every playground namespace (warn and audit are always `restricted`). */
  POD_SECURITY_LEVEL: z.enum(['baseline', 'restricted']).default('baseline'),
  /** Quota on what reaches outside the cluster (0: none) and on storage. */
  QUOTA_SERVICES_LOADBALANCERS: int(0, 0),
  QUOTA_SERVICES_NODEPORTS: int(0, 0),
  QUOTA_PERSISTENT_VOLUME_CLAIMS: int(5, 0),
  QUOTA_REQUESTS_STORAGE: quantity.default('10Gi'),
  /** A NetworkPolicy denying ingress from other namespaces (pods of the playground still talk). */
  NETWORK_POLICY_DEFAULT_DENY: bool(true),
  /**
   * Addresses playground pods may not reach (a NetworkPolicy allowing all egress but these):
   * the cloud metadata address (IPv4, and AWS's IPv6 one) and, added by the operator, the
   * control plane's CIDRs. Comma-separated IPv4/IPv6 CIDRs; `none` for no egress policy.
   */
  NETWORK_POLICY_EGRESS_DENY_CIDRS: z
    .string()
    .default('169.254.169.254/32,fd00:ec2::254/128')
    .transform((raw) => (raw.trim() === 'none' ? [] : raw.split(',').map((part) => part.trim()).filter(Boolean)))
    .pipe(z.array(z.union([z.cidrv4(), z.cidrv6()], { error: 'each entry must be an IPv4 or IPv6 CIDR (or the whole value `none`)' }))),
  /**
   * Service types trainees may create (k8s/base/trainee-policy.yaml reads them from the
   * namespace). `NodePort`/`LoadBalancer` also need QUOTA_SERVICES_NODEPORTS/_LOADBALANCERS.
   */
  TRAINEE_SERVICE_TYPES: z
    .string()
    .default('ClusterIP')
    .transform((raw) => [...new Set(raw.split(',').map((part) => part.trim()).filter(Boolean))])
    .pipe(z.array(z.enum(['ClusterIP', 'NodePort', 'LoadBalancer', 'ExternalName'])).min(1, 'at least one service type')),
  /**
   * Trainees' Ingress hosts must be `<username>.<this>` or under it; unset: no Ingress at all
   * (k8s/base/trainee-policy.yaml refuses every one).
   */
  TRAINEE_INGRESS_DOMAIN: z
    .string()
    .regex(/^(?=.{1,200}$)([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)(\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)*$/, 'must be a lower-case DNS domain such as apps.example.com')
    .optional(),
  /** Days a playground lasts when a create gives no `expiresAt`. */
  DEFAULT_EXPIRY_DAYS: int(365, 1),
  NAMESPACE_DELETE_TIMEOUT_SECONDS: int(120, 5),
};
