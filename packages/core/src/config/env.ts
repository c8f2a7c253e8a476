import { z } from 'zod';
import { rememberConfigWarnings, resolveLegacyEnv, type ConfigRole } from './legacy-env.js';
import { cohortApiSettings } from './cohort-env.js';
import { DEFAULT_RESERVED_NAMESPACES, parseNamePatterns } from '../domain/reserved-names.js';
import { apiEnvShape } from './api-env.js';
import { playgroundEnvShape } from './playground-env.js';
import { redisEnvShape, redisTopologyIssues } from './redis-env.js';
import { scheduleEnvShape } from './schedule-env.js';
import { EXAMPLE_SECRET, bool, int, notExample, tokenList, url } from './schema-helpers.js';
import { upstreamsEnvShape } from './upstreams-env.js';
import { workerRuntimeEnvShape } from './worker-runtime-env.js';
import { queryApiEnv, queryWorkerEnv } from './queries-env.js';
import { clusterAccessEnvShape, clusterAccessIssues } from './cluster-access.js';
import { webhookEnv, webhookIssues } from './webhooks.js';
import { playgroundTemplateEnv, quotaProfileEnv, quotaProfileIssues } from './profiles-templates-env.js';

export { isExampleSecret } from './schema-helpers.js';
export { redisTopologyIssues } from './redis-env.js';

/**
 * Configuration comes from the environment only, parsed once at boot against these
 * schemas. `loadApiConfig` / `loadWorkerConfig` list every bad key at once. The names
 * of the upstream settings are those `npm run stack:env` prints. Each topic's settings
 * live in their own module (`*-env.ts` next to this one), merged here.
 */

export const commonEnv = z.object({
  ...redisEnvShape,
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Seconds a generated password stays retrievable (encrypted) after its job ends. */
  PASSWORD_TTL_SECONDS: int(86_400, 60),
  JOB_ATTEMPTS: int(8, 1, 100),
  JOB_BACKOFF_MS: int(2_000, 100),
  /** 32 bytes, base64 or hex: seals generated passwords at rest (AES-256-GCM). */
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

  // Trainees' way in: the kubeconfig's cluster and OIDC login, public URLs (cluster-access.ts).
  ...clusterAccessEnvShape,

  /** A dotenv file read before everything else (a Vault-rendered file); see legacy-env.ts. */
  ENV_FILE: z.string().min(1).optional(),

  // Quota profiles (profiles-templates-env.ts).
  ...quotaProfileEnv,
});

export const apiEnv = commonEnv.extend({ ...apiEnvShape, ...cohortApiSettings, ...queryApiEnv });

export const workerEnv = commonEnv.extend({
  ...upstreamsEnvShape,
  ...playgroundEnvShape,
  ...workerRuntimeEnvShape,
  ...scheduleEnvShape,
  ...queryWorkerEnv,
  // Webhooks (config/webhooks.ts).
  ...webhookEnv,
  // Namespace templates (profiles-templates-env.ts).
  ...playgroundTemplateEnv,
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
  const issues = [...redisTopologyIssues(config), ...insecureUpstreamIssues(config), ...clusterAccessIssues(config), ...quotaProfileIssues(config)];
  if (issues.length > 0) throw new ConfigError(issues);
  return config;
}

/** Resolves the older deployments' names and ENV_FILE first; configWarnings(config) says what was used. */
function load<T extends CommonEnv>(schemaFor: (shortLegacyToken: boolean) => z.ZodType<T>, env: NodeJS.ProcessEnv, role: ConfigRole, more: (config: T) => string[] = () => []): T {
  const legacy = resolveLegacyEnv(env, role);
  if (legacy.issues.length > 0) throw new ConfigError(legacy.issues);
  const config = checked(parse(schemaFor(legacy.shortLegacyToken), legacy.env));
  const issues = more(config);
  if (issues.length > 0) throw new ConfigError(issues);
  return rememberConfigWarnings(config, legacy.warnings);
}

// A token shorter than the minimum is accepted only through the legacy name (VERIFICATION_TOKEN).
const apiEnvFor = (shortLegacyToken: boolean) => (shortLegacyToken ? apiEnv.extend({ API_TOKENS: tokenList(1, 1) }) : apiEnv);

export const loadApiConfig = (env: NodeJS.ProcessEnv = process.env): ApiEnv => load(apiEnvFor, env, 'api');
export const loadWorkerConfig = (env: NodeJS.ProcessEnv = process.env): WorkerEnv => load(() => workerEnv, env, 'worker', webhookIssues);

export function oidcIssuer(config: Pick<WorkerEnv, 'OIDC_ISSUER_URL' | 'KEYCLOAK_URL' | 'KEYCLOAK_REALM'>): string {
  return config.OIDC_ISSUER_URL ?? `${config.KEYCLOAK_URL.replace(/\/+$/, '')}/realms/${config.KEYCLOAK_REALM}`;
}
