import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ConfigError, isExampleSecret, loadApiConfig, loadWorkerConfig, oidcIssuer } from './env.js';

const KEY = randomBytes(32).toString('base64');
const TOKEN = 'tok-0123456789abcdef';

const apiBase = { RESULT_ENCRYPTION_KEY: KEY, API_TOKENS: TOKEN };
const workerBase = {
  RESULT_ENCRYPTION_KEY: KEY,
  KEYCLOAK_URL: 'https://keycloak.example:8443',
  KEYCLOAK_REALM: 'playground',
  KEYCLOAK_CLIENT_ID: 'k8s-provisioner',
  KEYCLOAK_CLIENT_SECRET: 'kc-client-secret-value',
  GRAFANA_URL: 'https://grafana.example:3000',
  GRAFANA_ADMIN_USER: 'admin',
  GRAFANA_ADMIN_PASSWORD: 'grafana-admin-password',
};

function configError(load: () => unknown): ConfigError {
  try {
    load();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

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
      NETWORK_POLICY_DEFAULT_DENY: true,
      NETWORK_POLICY_EGRESS_DENY_CIDRS: ['169.254.169.254/32'],
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

describe('http:// upstreams', () => {
  it.each([
    ['KEYCLOAK_URL', 'http://keycloak.example:8080'],
    ['GRAFANA_URL', 'http://grafana.example:3000'],
    ['OIDC_ISSUER_URL', 'http://keycloak.example/realms/playground'],
    ['GRAFANA_URL', 'HTTP://127.0.0.1:3000'],
  ])('refuses %s=%s at boot unless ALLOW_INSECURE_UPSTREAMS=true', (key, value) => {
    const error = configError(() => loadWorkerConfig({ ...workerBase, [key]: value }));
    expect(error.issues).toEqual([expect.stringMatching(new RegExp(`^${key}: http:// .*ALLOW_INSECURE_UPSTREAMS=true`))]);
    expect(loadWorkerConfig({ ...workerBase, [key]: value, ALLOW_INSECURE_UPSTREAMS: 'true' })[key as 'GRAFANA_URL']).toBe(value);
  });

  it('names every insecure URL at once, and still accepts https and redis URLs', () => {
    const error = configError(() => loadWorkerConfig({ ...workerBase, KEYCLOAK_URL: 'http://kc', GRAFANA_URL: 'http://gf' }));
    expect(error.issues.map((i) => i.split(':')[0]).sort()).toEqual(['GRAFANA_URL', 'KEYCLOAK_URL']);
    expect(loadWorkerConfig({ ...workerBase, REDIS_URL: 'redis://redis:6379' }).ALLOW_INSECURE_UPSTREAMS).toBe(false);
    expect(loadApiConfig({ ...apiBase, REDIS_URL: 'redis://redis:6379' }).REDIS_URL).toBe('redis://redis:6379');
  });
});

describe('WORKER_METRICS_TOKEN', () => {
  it('is off by default, split on commas, and refuses short tokens', () => {
    expect(loadWorkerConfig(workerBase).WORKER_METRICS_TOKEN).toBeUndefined();
    const second = 'metrics-token-two-0123456789';
    expect(loadWorkerConfig({ ...workerBase, WORKER_METRICS_TOKEN: `${TOKEN}, ${second}` }).WORKER_METRICS_TOKEN).toEqual([TOKEN, second]);
    expect(configError(() => loadWorkerConfig({ ...workerBase, WORKER_METRICS_TOKEN: 'short' })).issues).toEqual([
      expect.stringMatching(/^WORKER_METRICS_TOKEN.*at least 16 characters/),
    ]);
  });
});

describe('oidcIssuer', () => {
  it('defaults to the realm URL of Keycloak, without a doubled slash', () => {
    expect(oidcIssuer({ KEYCLOAK_URL: 'https://kc.example/', KEYCLOAK_REALM: 'playground', OIDC_ISSUER_URL: undefined })).toBe(
      'https://kc.example/realms/playground',
    );
    expect(oidcIssuer(loadWorkerConfig(workerBase))).toBe('https://keycloak.example:8443/realms/playground');
  });

  it('prefers OIDC_ISSUER_URL when set', () => {
    const config = loadWorkerConfig({ ...workerBase, OIDC_ISSUER_URL: 'https://issuer.example/realms/x' });
    expect(oidcIssuer(config)).toBe('https://issuer.example/realms/x');
  });
});

describe('TRUST_PROXY', () => {
  const base = { API_TOKENS: 'a'.repeat(20), RESULT_ENCRYPTION_KEY: KEY };
  it.each([
    [undefined, false],
    ['false', false],
    ['true', true],
    ['10.0.0.0/8, 192.168.1.1', ['10.0.0.0/8', '192.168.1.1']],
  ])('%s → %j', (raw, expected) => {
    expect(loadApiConfig({ ...base, ...(raw === undefined ? {} : { TRUST_PROXY: raw }) }).TRUST_PROXY).toEqual(expected);
  });
});

describe('shipped example secrets', () => {
  const zeroKeys = [Buffer.alloc(32).toString('base64'), '0'.repeat(64)];

  it.each(['replace-me-with-a-random-token', 'REPLACE_ME_0123456789', 'changeme-0123456789abc', ...zeroKeys])('%s is an example', (value) => {
    expect(isExampleSecret(value)).toBe(true);
  });
  it.each([KEY, TOKEN, randomBytes(32).toString('hex'), 'kc-client-secret-value'])('%s is not', (value) => {
    expect(isExampleSecret(value)).toBe(false);
  });

  it('refuses replace-me tokens, all-zero keys and example admin tokens at boot, naming the keys, not the values', () => {
    const error = configError(() =>
      loadApiConfig({ API_TOKENS: `${TOKEN},replace-me-with-a-random-token`, RESULT_ENCRYPTION_KEY: zeroKeys[0], BULL_BOARD_ADMIN_TOKENS: 'replace-me-admin-token-0123' }),
    );
    expect(error.issues.map((i) => i.split(/[.:]/)[0]).sort()).toEqual(['API_TOKENS', 'BULL_BOARD_ADMIN_TOKENS', 'RESULT_ENCRYPTION_KEY']);
    expect(error.message).toContain('shipped example');
    expect(error.message).not.toContain('replace-me-with');
    const hexZero = configError(() => loadApiConfig({ ...apiBase, RESULT_ENCRYPTION_KEY: zeroKeys[1] }));
    expect(hexZero.issues[0]).toMatch(/^RESULT_ENCRYPTION_KEY:/);
  });

  it("refuses the worker's example upstream secrets", () => {
    const error = configError(() => loadWorkerConfig({ ...workerBase, KEYCLOAK_CLIENT_SECRET: 'replace-me', GRAFANA_ADMIN_PASSWORD: 'replace-me' }));
    expect(error.issues.map((i) => i.split(':')[0]).sort()).toEqual(['GRAFANA_ADMIN_PASSWORD', 'KEYCLOAK_CLIENT_SECRET']);
  });

  it('refuses every secret of the example overlay as it is shipped', () => {
    const text = readFileSync(new URL('../../../../k8s/overlays/example/secret.example.yaml', import.meta.url), 'utf8');
    const shipped = Object.fromEntries([...text.matchAll(/^ {2}([A-Z_]+): (.+)$/gm)].map((m) => [m[1] as string, (m[2] as string).trim()]));
    expect(Object.keys(shipped)).toEqual(expect.arrayContaining(['API_TOKENS', 'RESULT_ENCRYPTION_KEY']));
    const { REDIS_URL: _redis, ...secrets } = shipped;
    for (const [key, value] of Object.entries(secrets)) expect(isExampleSecret(value), key).toBe(true);
  });

  it('reads BULL_BOARD_ADMIN_TOKENS like API_TOKENS (default: none)', () => {
    expect(loadApiConfig(apiBase).BULL_BOARD_ADMIN_TOKENS).toEqual([]);
    const admin = 'admin-token-0123456789';
    expect(loadApiConfig({ ...apiBase, BULL_BOARD_ADMIN_TOKENS: ` ${admin} ,` }).BULL_BOARD_ADMIN_TOKENS).toEqual([admin]);
    expect(configError(() => loadApiConfig({ ...apiBase, BULL_BOARD_ADMIN_TOKENS: 'short' })).issues[0]).toMatch(/BULL_BOARD_ADMIN_TOKENS.*16 characters/);
  });
});
