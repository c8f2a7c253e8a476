import { z } from 'zod';
import { MIN_API_TOKEN_LENGTH, rememberConfigWarnings, resolveLegacyEnv, type ConfigRole } from './legacy-env.js';
import { cohortApiSettings } from './cohort-env.js';
import { DEFAULT_RESERVED_NAMESPACES, parseNamePatterns } from '../domain/reserved-names.js';
import { queryApiEnv, queryWorkerEnv } from './queries-env.js';

/**
 * Configuration comes from the environment only, parsed once at boot against these
 * schemas. `loadApiConfig` / `loadWorkerConfig` list every bad key at once. The names
 * of the upstream settings are those `npm run stack:env` prints.
 */

const bool = (fallback: boolean) =>
  z
    .enum(['true', 'false', '1', '0', 'yes', 'no'])
    .default(fallback ? 'true' : 'false')
    .transform((v) => v === 'true' || v === '1' || v === 'yes');

const int = (fallback: number, min = 0, max = Number.MAX_SAFE_INTEGER) =>
  z.coerce.number().int().min(min).max(max).default(fallback);

const url = z.url({ protocol: /^https?$/ });
const quantity = z.string().regex(/^[0-9]+(\.[0-9]+)?(m|Ki|Mi|Gi|Ti|k|M|G|T)?$/, 'not a Kubernetes quantity');
const hostPorts = z
  .string()
  .regex(/^\s*(\[[^\]]+\]|[^:\s,]+):\d{1,5}\s*(,\s*(\[[^\]]+\]|[^:\s,]+):\d{1,5}\s*)*$/, 'must be host:port,host:port');
const cron = z.string().regex(/^(\S+\s+){4}\S+$|^(\S+\s+){5}\S+$/, 'not a cron pattern of 5 or 6 fields');
/** A time zone the runtime knows: BullMQ's cron parser resolves zones with the same Intl data, so a typo fails at boot, not at the first schedule. */
const timeZone = z.string().refine((tz) => {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}, 'not a known IANA time zone (e.g. UTC, Europe/Paris)');

// Shipped example secrets are refused at boot.

/**
 * A value copied from the shipped examples (k8s/overlays/example's `replace-me…`, or a
 * placeholder such as `changeme`) or an all-zero key: a deployment that keeps one is open
 * to anyone who has read the repository.
 */
export function isExampleSecret(value: string): boolean {
  if (/replace[-_ ]?me|change[-_ ]?me/i.test(value)) return true;
  const bytes = /^[0-9a-f]{64}$/i.test(value) ? Buffer.from(value, 'hex') : Buffer.from(value, 'base64');
  // A key (≥ 16 bytes once decoded) of zeros: `openssl rand` was never run.
  return bytes.length >= 16 && bytes.every((b) => b === 0);
}
const EXAMPLE_SECRET = 'is a shipped example or placeholder value (replace-me…, all-zero key): generate a random one';
const notExample = (value: string) => !isExampleSecret(value);
/**
 * Comma-separated tokens, at least `minCount` of them, each ≥ `minLength` characters (16;
 * less only for the old VERIFICATION_TOKEN, see legacy-env.ts) and none a shipped example.
 */
const tokenList = (minCount: number, minLength = MIN_API_TOKEN_LENGTH) =>
  z
    .string()
    .transform((raw) => raw.split(',').map((t) => t.trim()).filter(Boolean))
    .pipe(
      z
        .array(z.string().min(minLength, `each token needs at least ${minLength} characters`).refine(notExample, EXAMPLE_SECRET))
        .min(minCount, 'at least one token'),
    );

export const commonEnv = z.object({
  REDIS_URL: z.string().regex(/^rediss?:\/\//, 'must start with redis:// or rediss://').default('redis://127.0.0.1:6379'),
  /** Redis Sentinel instead of REDIS_URL: `host:port,host:port` of the sentinels, and the master group name. */
  REDIS_SENTINELS: hostPorts.optional(),
  REDIS_SENTINEL_NAME: z.string().min(1).optional(),
  REDIS_SENTINEL_PASSWORD: z.string().min(1).refine(notExample, EXAMPLE_SECRET).optional(),
  /** Redis Cluster instead of REDIS_URL: `host:port,host:port` of some nodes; needs a hash-tagged QUEUE_PREFIX. */
  REDIS_CLUSTER_NODES: hostPorts.optional(),
  /** Credentials and TLS for Sentinel or Cluster nodes (with REDIS_URL they go in the URL). */
  REDIS_USERNAME: z.string().min(1).optional(),
  REDIS_PASSWORD: z.string().min(1).refine(notExample, EXAMPLE_SECRET).optional(),
  REDIS_TLS: bool(false),
  /** Prefix of every BullMQ key; use a hash tag such as `{kup}` with Redis Cluster. */
  QUEUE_PREFIX: z.string().min(1).default('kup'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Seconds a generated password stays retrievable (encrypted) after its job ends. */
  PASSWORD_TTL_SECONDS: int(86_400, 60),
  /** 32 bytes, base64 or hex: seals generated passwords at rest (AES-256-GCM). */
  JOB_ATTEMPTS: int(8, 1, 100),
  JOB_BACKOFF_MS: int(2_000, 100),
  RESULT_ENCRYPTION_KEY: z
    .string()
    .refine((key) => {
      const bytes = /^[0-9a-f]{64}$/i.test(key) ? 32 : Buffer.from(key, 'base64').length;
      return bytes === 32;
    }, 'must be 32 bytes, base64 (44 characters) or hex (64 characters)')
    .refine(notExample, EXAMPLE_SECRET),

  // Names and identities: read by the API (refused before enqueueing) and the worker.
  /**
   * Namespaces no trainee may take, comma-separated; `*` matches any run of characters.
   * Replaces the default list (see domain/reserved-names.ts) when set.
   */
  RESERVED_NAMESPACES: z
    .string()
    .default(DEFAULT_RESERVED_NAMESPACES.join(','))
    .transform(parseNamePatterns)
    .pipe(z.array(z.string().regex(/^[a-z0-9*]([-a-z0-9*]*[a-z0-9*])?$/, 'each entry must be a namespace name, `*` allowed'))),
  // Plain-HTTP upstreams.
  /**
   * Accept `http://` in the upstream URLs (every `*_URL` setting: KEYCLOAK_URL, GRAFANA_URL,
   * OIDC_ISSUER_URL, …). Off by default: the worker sends client secrets, admin passwords
   * and trainees' new passwords there, so in clear they are readable by anyone on the path.
   * Only for a local stack or a network where that cannot happen.
   */
  ALLOW_INSECURE_UPSTREAMS: bool(false),

  // Tracing: the OpenTelemetry SDK reads these itself (and its other OTEL_*
  // variables); they are checked here so that a bad URL stops the boot. Tracing is off,
  // the SDK not even loaded, unless one is set.
  /** OTLP/HTTP base URL of a collector (`http://otel-collector:4318`; `/v1/traces` is added). */
  OTEL_EXPORTER_OTLP_ENDPOINT: url.optional(),
  /** The full URL for traces only, instead of the base URL. */
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: url.optional(),

  // The old deployment's settings.
  /** A dotenv file read before everything else (the old pod's Vault file); see legacy-env.ts. */
  ENV_FILE: z.string().min(1).optional(),
});

export const apiEnv = commonEnv.extend({
  PORT: int(3000, 1, 65_535),
  HOST: z.string().default('0.0.0.0'),
  /** Comma-separated; several are accepted at once so tokens can be rotated. */
  API_TOKENS: tokenList(1),
  /** Longest `Prefer: wait=N` honoured, in seconds. */
  MAX_WAIT_SECONDS: int(60, 0, 300),
  BODY_LIMIT_BYTES: int(16_384, 1_024),
  /**
   * Which proxies in front of the API to believe about the client address (Fastify's
   * `trustProxy`): `false` (default), `true`, or comma-separated addresses or CIDRs. The failed-authentication rate limit counts per client address, so behind an
   * ingress set this, or every client shares the ingress's address.
   */
  TRUST_PROXY: z
    .string()
    .default('false')
    .transform((raw): boolean | string[] => {
      if (raw === 'true' || raw === 'false') return raw === 'true';
      return raw.split(',').map((part) => part.trim()).filter(Boolean);
    }),
  /** Serve GET /metrics without a token (when only the cluster network reaches the API's port). */
  METRICS_PUBLIC: bool(false),

  // The old service's callers.
  /**
   * Treat a request without `Prefer` as `Prefer: wait=N` on POST/DELETE /provisioner, /reset,
   * /cleanup and /sync, so old synchronous callers work unchanged. 0 (default): off. Capped at
   * MAX_WAIT_SECONDS; keep the ingress's read timeout above it.
   */
  DEFAULT_PREFER_WAIT_SECONDS: int(0, 0, 300),

  // Admin surfaces.
  /**
   * Comma-separated tokens (≥ 16 characters) that may change things through Bull Board
   * (add, retry, clean, obliterate, pause, edit data, schedulers…). API tokens only read
   * it. Unset: Bull Board is read-only for everyone. Not accepted on the other routes.
   */
  BULL_BOARD_ADMIN_TOKENS: tokenList(0).default([]),
  /** Failed authentications a client (IPv4 address, IPv6 /64) may have per window; more get 429. */
  AUTH_FAILURE_LIMIT: int(20, 1),
  AUTH_FAILURE_WINDOW_SECONDS: int(60, 1),
  ...cohortApiSettings,
  ...queryApiEnv,
});

export const workerEnv = commonEnv.extend({
  KUBECONFIG: z.string().optional(),
  KEYCLOAK_URL: url,
  KEYCLOAK_REALM: z.string().min(1),
  KEYCLOAK_CLIENT_ID: z.string().min(1),
  KEYCLOAK_CLIENT_SECRET: z.string().min(1).refine(notExample, EXAMPLE_SECRET),
  // Identities.
  /** Create users with `emailVerified: true`: only when callers verify trainees' emails themselves. */
  KEYCLOAK_EMAIL_VERIFIED: bool(false),
  /** Defaults to `${KEYCLOAK_URL}/realms/${KEYCLOAK_REALM}`. */
  OIDC_ISSUER_URL: url.optional(),
  /**
   * How the apiserver names OIDC users, and so the RoleBinding subject:
   * `issuer-sub` → `<issuer>#<keycloak user id>` (the old service's subject),
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
   * the cloud metadata address and, added by the operator, the control plane's CIDRs.
   * Comma-separated IPv4/IPv6 CIDRs; `none` for no egress policy.
   */
  NETWORK_POLICY_EGRESS_DENY_CIDRS: z
    .string()
    .default('169.254.169.254/32')
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
  GRAFANA_URL: url,
  GRAFANA_ADMIN_USER: z.string().min(1),
  GRAFANA_ADMIN_PASSWORD: z.string().min(1).refine(notExample, EXAMPLE_SECRET),
  GRAFANA_ORG_ID: int(1, 1),
  GRAFANA_ROLE: z.enum(['Viewer', 'Editor', 'Admin', 'None']).default('Viewer'),
  WORKER_CONCURRENCY: int(4, 1, 256),
  /** A job whose worker stops renewing its lock this long (a SIGKILLed worker) counts as stalled. */
  WORKER_LOCK_DURATION_MS: int(30_000, 1_000),
  /** How often workers look for stalled jobs to run again. */
  WORKER_STALLED_INTERVAL_MS: int(5_000, 1_000),
  /**
   * How often a job may be interrupted (its worker killed) and run again before it counts
   * as failed. Every step is idempotent, so re-runs are safe; the limit only stops a job
   * that kills its worker every time.
   */
  WORKER_MAX_STALLED_COUNT: int(20, 1, 1_000),
  /** On SIGTERM, how long active jobs may take to finish; keep it below the pod's grace period. */
  WORKER_SHUTDOWN_TIMEOUT_SECONDS: int(25, 1),
  FLEET_CONCURRENCY: int(8, 1, 256),
  /** Upstream HTTP calls are abandoned after this many milliseconds. */
  UPSTREAM_TIMEOUT_MS: int(15_000, 100),
  SCHEDULE_TZ: timeZone.default('UTC'),
  RESET_SCHEDULE: cron.default('0 0 1 * *'),
  RESET_SCHEDULE_ENABLED: bool(true),
  RESET_SCHEDULE_MODE: z.enum(['recreate', 'purge']).default('recreate'),
  /** Daily, so a trainee's expiresAt is honoured within a day (the old deployment ran cleanup daily too). */
  CLEANUP_SCHEDULE: cron.default('0 0 * * *'),
  CLEANUP_SCHEDULE_ENABLED: bool(true),
  SYNC_SCHEDULE: cron.default('0 3 * * *'),
  SYNC_SCHEDULE_ENABLED: bool(false),
  /** The worker's own /healthz, /readyz and /metrics. */
  WORKER_HEALTH_PORT: int(9464, 0, 65_535),

  // The old deployment's settings (aliases and ENV_FILE in legacy-env.ts).
  /** Old: the kubeconfig itself, as JSON, in the variable. Used only when KUBECONFIG is unset. */
  KUBE_CONFIG: z
    .string()
    .refine((raw) => {
      try {
        const parsed: unknown = JSON.parse(raw);
        return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed);
      } catch {
        return false;
      }
    }, 'must be a kubeconfig as JSON (the old service\'s format)')
    .optional(),

  // The worker's metrics.
  /**
   * When set, `/metrics` on WORKER_HEALTH_PORT wants `Authorization: Bearer <token>`
   * (comma-separated: several, for rotation). `/healthz` and `/readyz` stay open for the kubelet.
   */
  WORKER_METRICS_TOKEN: tokenList(1).optional(),
  // Admin surfaces.
  /** How often each worker checks the schedulers in Redis against the configuration and puts changed ones back. */
  SCHEDULE_CHECK_INTERVAL_SECONDS: int(60, 1, 86_400),
  /**
   * A cleanup run that would delete more than this share (0–1) of the managed trainees it
   * looks at fails with CONFIRMATION_REQUIRED and deletes nobody, unless it was asked with
   * `confirmMassDelete: true`. The configured schedule (maxAgeDays 365) is not held.
   */
  CLEANUP_MAX_SHARE_WITHOUT_CONFIRM: z.coerce.number().min(0).max(1).default(0.2),
  ...queryWorkerEnv,
});

export type CommonEnv = z.infer<typeof commonEnv>;
export type ApiEnv = z.infer<typeof apiEnv>;
export type WorkerEnv = z.infer<typeof workerEnv>;

export class ConfigError extends Error {
  readonly issues: string[];

  constructor(issues: string[]) {
    super(`invalid configuration:\n${issues.map((i) => `  - ${i}`).join('\n')}`);
    this.name = 'ConfigError';
    this.issues = issues;
  }
}

function parse<S extends z.ZodType>(schema: S, env: NodeJS.ProcessEnv): z.infer<S> {
  // Empty strings count as unset, so `FOO=` in a .env file means "use the default".
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined && value !== ''));
  const result = schema.safeParse(cleaned);
  if (result.success) return result.data;
  // Name the key and the reason, never the value: values may be secrets.
  throw new ConfigError(result.error.issues.map((issue) => `${issue.path.join('.') || '(env)'}: ${issue.message}`));
}

/** A hash tag (`{…}`): keys sharing it live in one Redis Cluster slot. */
const HASH_TAG = /\{[^{}]+\}/;

/**
 * Checks across the Redis keys: Sentinel and Cluster exclude each other, Sentinel needs
 * its master name, and with Cluster every key of a queue must hash to one slot, so the
 * BullMQ prefix must hold a hash tag.
 */
export function redisTopologyIssues(env: Pick<CommonEnv, 'REDIS_SENTINELS' | 'REDIS_SENTINEL_NAME' | 'REDIS_CLUSTER_NODES' | 'QUEUE_PREFIX'>): string[] {
  const issues: string[] = [];
  if (env.REDIS_SENTINELS && env.REDIS_CLUSTER_NODES) issues.push('REDIS_SENTINELS: cannot be combined with REDIS_CLUSTER_NODES');
  if (env.REDIS_SENTINELS && !env.REDIS_SENTINEL_NAME) issues.push('REDIS_SENTINEL_NAME: required with REDIS_SENTINELS (the master group name)');
  if (env.REDIS_CLUSTER_NODES && !HASH_TAG.test(env.QUEUE_PREFIX)) {
    issues.push('QUEUE_PREFIX: with REDIS_CLUSTER_NODES it must contain a hash tag such as {kup}, so that each queue stays in one slot');
  }
  return issues;
}

/**
 * `http://` in any `*_URL` setting, unless ALLOW_INSECURE_UPSTREAMS. By key suffix, so an
 * upstream added later is covered without a list to keep up. Loopback is no exception: a
 * sidecar or port-forward on 127.0.0.1 is the operator's call, made with the setting.
 */
export function insecureUpstreamIssues(config: CommonEnv): string[] {
  if (config.ALLOW_INSECURE_UPSTREAMS) return [];
  return Object.entries(config)
    .filter(([key, value]) => key.endsWith('_URL') && typeof value === 'string' && /^http:/i.test(value.trim()))
    .map(([key]) => `${key}: http:// sends credentials in clear; use https://, or set ALLOW_INSECURE_UPSTREAMS=true (local stacks only)`);
}

function checked<T extends CommonEnv>(config: T): T {
  const issues = [...redisTopologyIssues(config), ...insecureUpstreamIssues(config)];
  if (issues.length > 0) throw new ConfigError(issues);
  return config;
}

/** Resolves the old deployment's names and ENV_FILE first; configWarnings(config) says what was used. */
function load<T extends CommonEnv>(schemaFor: (shortLegacyToken: boolean) => z.ZodType<T>, env: NodeJS.ProcessEnv, role: ConfigRole): T {
  const legacy = resolveLegacyEnv(env, role);
  if (legacy.issues.length > 0) throw new ConfigError(legacy.issues);
  return rememberConfigWarnings(checked(parse(schemaFor(legacy.shortLegacyToken), legacy.env)), legacy.warnings);
}

// A token shorter than the minimum is accepted only through the old name (VERIFICATION_TOKEN).
const apiEnvFor = (shortLegacyToken: boolean) => (shortLegacyToken ? apiEnv.extend({ API_TOKENS: tokenList(1, 1) }) : apiEnv);

export const loadApiConfig = (env: NodeJS.ProcessEnv = process.env): ApiEnv => load(apiEnvFor, env, 'api');
export const loadWorkerConfig = (env: NodeJS.ProcessEnv = process.env): WorkerEnv => load(() => workerEnv, env, 'worker');

export function oidcIssuer(config: Pick<WorkerEnv, 'OIDC_ISSUER_URL' | 'KEYCLOAK_URL' | 'KEYCLOAK_REALM'>): string {
  return config.OIDC_ISSUER_URL ?? `${config.KEYCLOAK_URL.replace(/\/+$/, '')}/realms/${config.KEYCLOAK_REALM}`;
}
