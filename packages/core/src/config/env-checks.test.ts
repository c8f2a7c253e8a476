// Checks across settings: http:// upstreams, metrics tokens, the issuer, proxies, shipped example secrets.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { isExampleSecret, loadApiConfig, loadWorkerConfig, oidcIssuer } from './env.js';
import { KEY, TOKEN, apiBase, configError, workerBase } from '../test-support/env-fixture.js';

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
