import { workerEnv, type WorkerEnv } from '../config/env.js';
import { profileOverrides, resolveProfiles, type QuotaProfile } from './quota-profiles.js';
import type { PlaygroundSettings } from './trainee-plan.js';

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
  'QUOTA_REQUESTS_EPHEMERAL_STORAGE',
  'QUOTA_LIMITS_EPHEMERAL_STORAGE',
  'LIMIT_DEFAULT_REQUEST_EPHEMERAL_STORAGE',
  'LIMIT_DEFAULT_EPHEMERAL_STORAGE',
  'NETWORK_POLICY_DEFAULT_DENY',
  'NETWORK_POLICY_EGRESS_DENY_CIDRS',
  'POD_SECURITY_LEVEL',
  'QUOTA_SERVICES_LOADBALANCERS',
  'QUOTA_SERVICES_NODEPORTS',
  'QUOTA_PERSISTENT_VOLUME_CLAIMS',
  'QUOTA_REQUESTS_STORAGE',
  'TRAINEE_SERVICE_TYPES',
  'TRAINEE_INGRESS_DOMAIN',
  'QUOTA_PROFILES_FILE',
  'DEFAULT_QUOTA_PROFILE',
  'PLAYGROUND_TEMPLATES',
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
  const base = baseProfile(config);
  const profiles = resolveProfiles(base, profileOverrides(config.QUOTA_PROFILES_FILE?.profiles));
  // loadWorkerConfig refuses an unknown DEFAULT_QUOTA_PROFILE; the base stands in for settings built otherwise.
  const { quota, limits } = profiles[config.DEFAULT_QUOTA_PROFILE] ?? base;
  return {
    clusterRole: config.TRAINEE_CLUSTER_ROLE,
    subjectMode: config.RBAC_SUBJECT_MODE,
    issuer,
    usernamePrefix: config.OIDC_USERNAME_PREFIX,
    quota,
    limits,
    profiles,
    defaultProfile: config.DEFAULT_QUOTA_PROFILE,
    templates: config.PLAYGROUND_TEMPLATES?.templates ?? [],
    defaultDenyNetworkPolicy: config.NETWORK_POLICY_DEFAULT_DENY,
    egressDenyCidrs: config.NETWORK_POLICY_EGRESS_DENY_CIDRS,
    podSecurityLevel: config.POD_SECURITY_LEVEL,
    serviceTypes: config.TRAINEE_SERVICE_TYPES,
    ingressDomain: config.TRAINEE_INGRESS_DOMAIN,
  };
}

/** The QUOTA_* and LIMIT_* settings: the `medium` profile, and what every other profile changes. */
function baseProfile(config: PlaygroundConfig): QuotaProfile {
  return {
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
      requestsEphemeralStorage: config.QUOTA_REQUESTS_EPHEMERAL_STORAGE,
      limitsEphemeralStorage: config.QUOTA_LIMITS_EPHEMERAL_STORAGE,
    },
    limits: {
      defaultRequestCpu: config.LIMIT_DEFAULT_REQUEST_CPU,
      defaultRequestMemory: config.LIMIT_DEFAULT_REQUEST_MEMORY,
      defaultCpu: config.LIMIT_DEFAULT_CPU,
      defaultMemory: config.LIMIT_DEFAULT_MEMORY,
      defaultRequestEphemeralStorage: config.LIMIT_DEFAULT_REQUEST_EPHEMERAL_STORAGE,
      defaultEphemeralStorage: config.LIMIT_DEFAULT_EPHEMERAL_STORAGE,
    },
  };
}
