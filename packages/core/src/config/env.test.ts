
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { loadApiConfig, loadWorkerConfig, } from './env.js';
import { KEY, TOKEN, apiBase, configError, workerBase } from '../test-support/env-fixture.js';

describe('loadApiConfig', () => {
  it('fills defaults', () => {
    const config = loadApiConfig(apiBase);
    expect(config).toMatchObject({
      REDIS_URL: 'redis://127.0.0.1:6379',
      QUEUE_PREFIX: 'kup',
      LOG_LEVEL: 'info',
      PASSWORD_TTL_SECONDS: 86_400,
      JOB_ATTEMPTS: 8,
      JOB_BACKOFF_MS: 2_000,
      PORT: 3000,
      HOST: '0.0.0.0',
      MAX_WAIT_SECONDS: 60,
      BODY_LIMIT_BYTES: 16_384,
      API_TOKENS: [TOKEN],
    });
  });

  it('coerces numbers', () => {
    expect(loadApiConfig({ ...apiBase, PORT: '8080', JOB_ATTEMPTS: '3' })).toMatchObject({ PORT: 8080, JOB_ATTEMPTS: 3 });
  });

  it('splits API_TOKENS on commas, trims them and drops empty ones', () => {
    const other = 'second-token-0123456789';
    expect(loadApiConfig({ ...apiBase, API_TOKENS: ` ${TOKEN} ,, ${other},` }).API_TOKENS).toEqual([TOKEN, other]);
  });

  it.each([
    ['a short token', `${TOKEN},short`, 'at least 16 characters'],
    ['only commas', ' , ,', 'at least one token'],
  ])('refuses API_TOKENS with %s', (_, tokens, reason) => {
    const error = configError(() => loadApiConfig({ ...apiBase, API_TOKENS: tokens }));
    expect(error.message).toContain('API_TOKENS');
    expect(error.message).toContain(reason);
  });

  it('requires API_TOKENS and RESULT_ENCRYPTION_KEY, and says so at once', () => {
    const error = configError(() => loadApiConfig({}));
    expect(error.issues.map((i) => i.split(':')[0]).sort()).toEqual(['API_TOKENS', 'RESULT_ENCRYPTION_KEY']);
  });

  it('counts empty strings as unset', () => {
    const config = loadApiConfig({ ...apiBase, PORT: '', REDIS_URL: '', LOG_LEVEL: '' });
    expect(config).toMatchObject({ PORT: 3000, REDIS_URL: 'redis://127.0.0.1:6379', LOG_LEVEL: 'info' });
    const error = configError(() => loadApiConfig({ ...apiBase, API_TOKENS: '' }));
    expect(error.issues).toHaveLength(1);
    expect(error.issues[0]).toMatch(/^API_TOKENS:/);
  });

  it.each([
    ['hex', randomBytes(32).toString('hex'), true],
    ['base64', randomBytes(32).toString('base64'), true],
    ['16 bytes base64', randomBytes(16).toString('base64'), false],
    ['62 hex characters', randomBytes(31).toString('hex'), false],
  ])('RESULT_ENCRYPTION_KEY as %s: accepted %s', (_, key, accepted) => {
    const load = () => loadApiConfig({ ...apiBase, RESULT_ENCRYPTION_KEY: key });
    if (accepted) expect(load()).toMatchObject({ RESULT_ENCRYPTION_KEY: key });
    else expect(configError(load).message).toContain('RESULT_ENCRYPTION_KEY: must be 32 bytes');
  });
});

describe('loadWorkerConfig', () => {
  it('fills defaults', () => {
    expect(loadWorkerConfig(workerBase)).toMatchObject({
      RBAC_SUBJECT_MODE: 'issuer-sub',
      OIDC_USERNAME_PREFIX: 'oidc:',
      TRAINEE_CLUSTER_ROLE: 'read-write-all-except-resourcequotas',
      QUOTA_PODS: 20,
      QUOTA_REQUESTS_CPU: '100m',
      QUOTA_REQUESTS_MEMORY: '2Gi',
      QUOTA_LIMITS_CPU: '500m',
      QUOTA_LIMITS_MEMORY: '4Gi',
      LIMIT_DEFAULT_REQUEST_CPU: '10m',
      LIMIT_DEFAULT_REQUEST_MEMORY: '64Mi',
      LIMIT_DEFAULT_CPU: '100m',
      LIMIT_DEFAULT_MEMORY: '256Mi',
      QUOTA_REQUESTS_EPHEMERAL_STORAGE: '2Gi',
      QUOTA_LIMITS_EPHEMERAL_STORAGE: '5Gi',
      LIMIT_DEFAULT_REQUEST_EPHEMERAL_STORAGE: '64Mi',
      LIMIT_DEFAULT_EPHEMERAL_STORAGE: '256Mi',
      NETWORK_POLICY_DEFAULT_DENY: true,
      NETWORK_POLICY_EGRESS_DENY_CIDRS: ['169.254.169.254/32', 'fd00:ec2::254/128'],
      POD_SECURITY_LEVEL: 'baseline',
      QUOTA_SERVICES_LOADBALANCERS: 0,
      QUOTA_SERVICES_NODEPORTS: 0,
      QUOTA_PERSISTENT_VOLUME_CLAIMS: 5,
      QUOTA_REQUESTS_STORAGE: '10Gi',
      TRAINEE_SERVICE_TYPES: ['ClusterIP'],
      GRAFANA_ORG_ID: 1,
      GRAFANA_ROLE: 'Viewer',
      RESET_SCHEDULE: '0 0 1 * *',
      RESET_SCHEDULE_ENABLED: true,
      RESET_SCHEDULE_MODE: 'recreate',
      CLEANUP_SCHEDULE: '0 0 * * *',
      CLEANUP_SCHEDULE_ENABLED: true,
      SYNC_SCHEDULE_ENABLED: false,
      SCHEDULE_TZ: 'UTC',
    });
    expect(loadWorkerConfig(workerBase).OIDC_ISSUER_URL).toBeUndefined();
  });

  it.each([
    ['true', true],
    ['1', true],
    ['yes', true],
    ['false', false],
    ['0', false],
    ['no', false],
  ])('reads the boolean %j as %s', (raw, expected) => {
    const config = loadWorkerConfig({ ...workerBase, NETWORK_POLICY_DEFAULT_DENY: raw, RESET_SCHEDULE_ENABLED: raw });
    expect(config.NETWORK_POLICY_DEFAULT_DENY).toBe(expected);
    expect(config.RESET_SCHEDULE_ENABLED).toBe(expected);
  });

  it.each(['TRUE', 'on', 'y', '2'])('refuses the boolean %j', (raw) => {
    expect(configError(() => loadWorkerConfig({ ...workerBase, SYNC_SCHEDULE_ENABLED: raw })).issues).toEqual([
      expect.stringMatching(/^SYNC_SCHEDULE_ENABLED:/),
    ]);
  });

  it('reads the trainee namespace hardening settings', () => {
    const config = loadWorkerConfig({
      ...workerBase,
      NETWORK_POLICY_EGRESS_DENY_CIDRS: '169.254.169.254/32, 10.0.0.0/16,fd00:ec2::254/128',
      TRAINEE_SERVICE_TYPES: 'ClusterIP,NodePort,ClusterIP',
      TRAINEE_INGRESS_DOMAIN: 'apps.example.com',
      POD_SECURITY_LEVEL: 'restricted',
    });
    expect(config).toMatchObject({
      NETWORK_POLICY_EGRESS_DENY_CIDRS: ['169.254.169.254/32', '10.0.0.0/16', 'fd00:ec2::254/128'],
      TRAINEE_SERVICE_TYPES: ['ClusterIP', 'NodePort'],
      TRAINEE_INGRESS_DOMAIN: 'apps.example.com',
      POD_SECURITY_LEVEL: 'restricted',
    });
    expect(loadWorkerConfig({ ...workerBase, NETWORK_POLICY_EGRESS_DENY_CIDRS: 'none' }).NETWORK_POLICY_EGRESS_DENY_CIDRS).toEqual([]);
    expect(loadWorkerConfig(workerBase).TRAINEE_INGRESS_DOMAIN).toBeUndefined();
  });

  it.each([
    ['NETWORK_POLICY_EGRESS_DENY_CIDRS', '169.254.169.254'],
    ['NETWORK_POLICY_EGRESS_DENY_CIDRS', '10.0.0.0/33'],
    ['TRAINEE_SERVICE_TYPES', 'ClusterIP,Headless'],
    ['TRAINEE_INGRESS_DOMAIN', 'Apps.Example.com'],
    ['TRAINEE_INGRESS_DOMAIN', '*.example.com'],
    ['POD_SECURITY_LEVEL', 'privileged'],
  ])('refuses %s=%j', (key, raw) => {
    expect(configError(() => loadWorkerConfig({ ...workerBase, [key]: raw })).issues).toEqual([expect.stringMatching(new RegExp(`^${key}`))]);
  });

  it('accepts 6-field cron patterns and Kubernetes quantities', () => {
    const config = loadWorkerConfig({ ...workerBase, SYNC_SCHEDULE: '0 */5 3 * * *', QUOTA_LIMITS_MEMORY: '1.5Gi' });
    expect(config).toMatchObject({ SYNC_SCHEDULE: '0 */5 3 * * *', QUOTA_LIMITS_MEMORY: '1.5Gi' });
  });

  it('refuses an unknown SCHEDULE_TZ at boot, and accepts IANA zones', () => {
    const error = configError(() => loadWorkerConfig({ ...workerBase, SCHEDULE_TZ: 'Europe/Pariss' }));
    expect(error.issues).toEqual([expect.stringMatching(/^SCHEDULE_TZ: not a known IANA time zone/)]);
    expect(configError(() => loadWorkerConfig({ ...workerBase, SCHEDULE_TZ: 'CET+1' })).issues).toHaveLength(1);
    for (const tz of ['UTC', 'Europe/Paris', 'America/Argentina/Buenos_Aires']) expect(loadWorkerConfig({ ...workerBase, SCHEDULE_TZ: tz }).SCHEDULE_TZ).toBe(tz);
  });

  it('lists every bad key at once, and never a value', () => {
    const secret = 'Sup3r-Secret-Value-4711';
    const error = configError(() =>
      loadWorkerConfig({
        ...workerBase,
        KEYCLOAK_URL: `ftp://${secret}@keycloak`,
        GRAFANA_URL: secret,
        GRAFANA_ADMIN_PASSWORD: '',
        RESULT_ENCRYPTION_KEY: secret,
        REDIS_URL: `http://:${secret}@redis`,
        QUOTA_PODS: '-1',
        QUOTA_REQUESTS_CPU: secret,
        RBAC_SUBJECT_MODE: secret,
        RESET_SCHEDULE: secret,
        WORKER_CONCURRENCY: '0',
      }),
    );
    const keys = error.issues.map((issue) => issue.split(':')[0]);
    expect(new Set(keys)).toEqual(
      new Set([
        'KEYCLOAK_URL',
        'GRAFANA_URL',
        'GRAFANA_ADMIN_PASSWORD',
        'RESULT_ENCRYPTION_KEY',
        'REDIS_URL',
        'QUOTA_PODS',
        'QUOTA_REQUESTS_CPU',
        'RBAC_SUBJECT_MODE',
        'RESET_SCHEDULE',
        'WORKER_CONCURRENCY',
      ]),
    );
    for (const key of keys) expect(error.message).toContain(key);
    expect(error.message).not.toContain(secret);
    expect(error.message).not.toContain('Sup3r');
    expect(JSON.stringify(error.issues)).not.toContain(secret);
  });

  it('never shows the values of the good secrets either', () => {
    const error = configError(() => loadWorkerConfig({ ...workerBase, GRAFANA_URL: 'nope' }));
    expect(error.message).not.toContain(workerBase.KEYCLOAK_CLIENT_SECRET);
    expect(error.message).not.toContain(workerBase.GRAFANA_ADMIN_PASSWORD);
    expect(error.message).not.toContain(KEY);
  });
});
