// Settings that load, shared by the configuration tests.
import { randomBytes } from 'node:crypto';
import { expect } from 'vitest';
import { ConfigError } from '../config/env.js';

export const KEY = randomBytes(32).toString('base64');
export const TOKEN = 'tok-0123456789abcdef';

export const apiBase = { RESULT_ENCRYPTION_KEY: KEY, API_TOKENS: TOKEN };
export const workerBase = {
  RESULT_ENCRYPTION_KEY: KEY,
  KEYCLOAK_URL: 'https://keycloak.example:8443',
  KEYCLOAK_REALM: 'playground',
  KEYCLOAK_CLIENT_ID: 'k8s-provisioner',
  KEYCLOAK_CLIENT_SECRET: 'kc-client-secret-value',
  GRAFANA_URL: 'https://grafana.example:3000',
  GRAFANA_ADMIN_USER: 'admin',
  GRAFANA_ADMIN_PASSWORD: 'grafana-admin-password',
};

export function configError(load: () => unknown): ConfigError {
  try {
    load();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

/** The issues a load reports: none when the settings load. */
export function configIssues(load: () => unknown): string[] {
  try {
    load();
  } catch (error) {
    if (error instanceof ConfigError) return error.issues;
    throw error;
  }
  return [];
}
