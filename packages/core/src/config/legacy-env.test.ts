import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadApiConfig, loadWorkerConfig } from './env.js';
import { KEY, configError, workerBase } from '../test-support/env-fixture.js';
import { configWarnings, keycloakUrlFromBase } from './legacy-env.js';

const OLD_TOKEN = 'old-shared-token-0123456789';
const workerNew = workerBase;
/** The old deployment's names for the same settings. */
const { KEYCLOAK_URL: _k, GRAFANA_ADMIN_USER: _u, GRAFANA_ADMIN_PASSWORD: _p, ...workerShared } = workerNew;
const workerOld = {
  ...workerShared,
  KEYCLOAK_BASE_URL: 'https://keycloak.example:8443/auth/',
  GRAFANA_USER: 'old-admin',
  GRAFANA_PASSWORD: 'old-grafana-password',
};
const KUBECONFIG_JSON = JSON.stringify({
  apiVersion: 'v1',
  kind: 'Config',
  clusters: [{ name: 'c', cluster: { server: 'https://10.0.0.1:6443' } }],
  users: [{ name: 'u', user: { token: 'kube-token-secret' } }],
  contexts: [{ name: 'x', context: { cluster: 'c', user: 'u' } }],
  'current-context': 'x',
});
const SECRETS = [OLD_TOKEN, 'old-grafana-password', 'kube-token-secret', 'kc-client-secret-value', 'short1'];

const noSecretIn = (lines: readonly string[]) => {
  for (const secret of SECRETS) expect(lines.join('\n')).not.toContain(secret);
};

describe('the old deployment\'s names, as aliases with a warning', () => {
  it('VERIFICATION_TOKEN becomes the API token, with a warning naming API_TOKENS', () => {
    const config = loadApiConfig({ RESULT_ENCRYPTION_KEY: KEY, VERIFICATION_TOKEN: OLD_TOKEN });
    expect(config.API_TOKENS).toEqual([OLD_TOKEN]);
    expect(configWarnings(config)).toEqual([expect.stringMatching(/^VERIFICATION_TOKEN is the old service's name for API_TOKENS: rename it to API_TOKENS/)]);
    noSecretIn(configWarnings(config));
  });

  it('a token shorter than the minimum is accepted through the old name only, with a warning', () => {
    const config = loadApiConfig({ RESULT_ENCRYPTION_KEY: KEY, VERIFICATION_TOKEN: 'short1' });
    expect(config.API_TOKENS).toEqual(['short1']);
    expect(configWarnings(config).join('\n')).toMatch(/VERIFICATION_TOKEN is shorter than 16 characters: accepted only because it comes through the old name/);
    noSecretIn(configWarnings(config));

    const refused = configError(() => loadApiConfig({ RESULT_ENCRYPTION_KEY: KEY, API_TOKENS: 'short1' }));
    expect(refused.issues.join('\n')).toMatch(/API_TOKENS.*at least 16 characters/);
    noSecretIn(refused.issues);
  });

  it('the new name wins when both are set, and the old one is reported as ignored', () => {
    const config = loadApiConfig({ RESULT_ENCRYPTION_KEY: KEY, API_TOKENS: 'new-token-0123456789abc', VERIFICATION_TOKEN: 'short1' });
    expect(config.API_TOKENS).toEqual(['new-token-0123456789abc']);
    expect(configWarnings(config)).toEqual([expect.stringMatching(/^VERIFICATION_TOKEN is ignored: API_TOKENS is set/)]);
  });

  it('a short token in API_TOKENS does not pass because VERIFICATION_TOKEN is also set', () => {
    const error = configError(() => loadApiConfig({ RESULT_ENCRYPTION_KEY: KEY, API_TOKENS: 'tiny', VERIFICATION_TOKEN: 'short1' }));
    expect(error.issues.join('\n')).toMatch(/API_TOKENS/);
  });

  it('a comma in VERIFICATION_TOKEN is refused (the old name holds one token)', () => {
    const error = configError(() => loadApiConfig({ RESULT_ENCRYPTION_KEY: KEY, VERIFICATION_TOKEN: 'a,b' }));
    expect(error.issues).toEqual([expect.stringMatching(/^VERIFICATION_TOKEN: holds a comma/)]);
  });

  it('the worker takes KEYCLOAK_BASE_URL, GRAFANA_USER and GRAFANA_PASSWORD', () => {
    const config = loadWorkerConfig(workerOld);
    expect(config).toMatchObject({ KEYCLOAK_URL: 'https://keycloak.example:8443', GRAFANA_ADMIN_USER: 'old-admin', GRAFANA_ADMIN_PASSWORD: 'old-grafana-password' });
    const warnings = configWarnings(config);
    expect(warnings).toHaveLength(3);
    for (const [old, now] of [['KEYCLOAK_BASE_URL', 'KEYCLOAK_URL'], ['GRAFANA_USER', 'GRAFANA_ADMIN_USER'], ['GRAFANA_PASSWORD', 'GRAFANA_ADMIN_PASSWORD']]) {
      expect(warnings.join('\n')).toContain(`${old} is the old service's name for ${now}: rename it to ${now}`);
    }
    noSecretIn(warnings);
  });

  it.each([
    ['https://kc.example.com', 'https://kc.example.com'],
    ['https://kc.example.com/', 'https://kc.example.com'],
    ['https://kc.example.com/auth', 'https://kc.example.com'],
    ['https://kc.example.com/auth/', 'https://kc.example.com'],
    ['https://kc.example.com/sso/auth/', 'https://kc.example.com/sso'],
    ['https://auth.example.com', 'https://auth.example.com'],
  ])('KEYCLOAK_BASE_URL %s → KEYCLOAK_URL %s', (old, expected) => {
    expect(keycloakUrlFromBase(old)).toBe(expected);
    expect(loadWorkerConfig({ ...workerOld, KEYCLOAK_BASE_URL: old }).KEYCLOAK_URL).toBe(expected);
  });

  it('the API does not warn about the worker\'s old names, nor the worker about the API\'s', () => {
    const both = { ...workerOld, VERIFICATION_TOKEN: OLD_TOKEN };
    expect(configWarnings(loadApiConfig(both)).join('\n')).not.toMatch(/GRAFANA|KEYCLOAK/);
    expect(configWarnings(loadWorkerConfig(both)).join('\n')).not.toMatch(/VERIFICATION_TOKEN/);
  });

  it('no warning when only the new names are used', () => {
    expect(configWarnings(loadWorkerConfig(workerNew))).toEqual([]);
  });

  it('does not write into the environment it reads', () => {
    const env = { RESULT_ENCRYPTION_KEY: KEY, VERIFICATION_TOKEN: OLD_TOKEN };
    loadApiConfig(env);
    expect(env).toEqual({ RESULT_ENCRYPTION_KEY: KEY, VERIFICATION_TOKEN: OLD_TOKEN });
  });
});

describe('KUBE_CONFIG: the kubeconfig itself, as JSON, in the variable', () => {
  it('is kept for the Kubernetes adapter when KUBECONFIG is unset, with a warning', () => {
    const config = loadWorkerConfig({ ...workerNew, KUBE_CONFIG: KUBECONFIG_JSON });
    expect(config.KUBE_CONFIG).toBe(KUBECONFIG_JSON);
    expect(configWarnings(config)).toEqual([expect.stringMatching(/^KUBE_CONFIG .* set KUBECONFIG to its path/)]);
    noSecretIn(configWarnings(config));
  });

  it('is reported as ignored when KUBECONFIG is set', () => {
    const config = loadWorkerConfig({ ...workerNew, KUBE_CONFIG: KUBECONFIG_JSON, KUBECONFIG: '/etc/kube/config' });
    expect(configWarnings(config)).toEqual([expect.stringMatching(/^KUBE_CONFIG is ignored: KUBECONFIG is set/)]);
  });

  it('must be JSON; the error does not quote it', () => {
    const error = configError(() => loadWorkerConfig({ ...workerNew, KUBE_CONFIG: 'token: kube-token-secret' }));
    expect(error.issues).toEqual([expect.stringMatching(/^KUBE_CONFIG: must be a kubeconfig as JSON/)]);
    noSecretIn(error.issues);
  });
});

describe('ENV_FILE: a dotenv file, such as the Vault agent\'s /vault/secrets/config', () => {
  const file = (content: string) => {
    const path = join(mkdtempSync(join(tmpdir(), 'kup-env-')), 'config');
    writeFileSync(path, content, { mode: 0o600 });
    return path;
  };

  it('loads the file, old names included; the real environment wins over it', () => {
    const path = file(
      [
        `export RESULT_ENCRYPTION_KEY="${KEY}"`,
        'KEYCLOAK_BASE_URL=https://kc.example.com/auth/',
        'KEYCLOAK_REALM=from-file',
        'KEYCLOAK_CLIENT_ID=k8s-provisioner',
        'KEYCLOAK_CLIENT_SECRET=kc-client-secret-value',
        'GRAFANA_URL=https://grafana.example:3000',
        'GRAFANA_USER=admin',
        "GRAFANA_PASSWORD='old-grafana-password'",
        '# a comment',
      ].join('\n'),
    );
    const config = loadWorkerConfig({ ENV_FILE: path, KEYCLOAK_REALM: 'from-env' });
    expect(config).toMatchObject({
      KEYCLOAK_URL: 'https://kc.example.com',
      KEYCLOAK_REALM: 'from-env',
      GRAFANA_ADMIN_USER: 'admin',
      GRAFANA_ADMIN_PASSWORD: 'old-grafana-password',
      KEYCLOAK_CLIENT_SECRET: 'kc-client-secret-value',
    });
    expect(configWarnings(config)).toHaveLength(3);
  });

  it('the API reads VERIFICATION_TOKEN from it', () => {
    const path = file(`VERIFICATION_TOKEN=${OLD_TOKEN}\nRESULT_ENCRYPTION_KEY=${KEY}\n`);
    expect(loadApiConfig({ ENV_FILE: path }).API_TOKENS).toEqual([OLD_TOKEN]);
  });

  it('a file that cannot be read stops the boot, naming ENV_FILE', () => {
    const error = configError(() => loadApiConfig({ ENV_FILE: '/nonexistent/vault/secrets/config', API_TOKENS: 'new-token-0123456789abc', RESULT_ENCRYPTION_KEY: KEY }));
    expect(error.issues).toEqual(['ENV_FILE: cannot read /nonexistent/vault/secrets/config (ENOENT)']);
  });
});
