import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { caDataFrom, clusterCaData } from './cluster-access.js';
import { loadApiConfig, loadWorkerConfig } from './env.js';
import { apiBase as api, configIssues as issues, workerBase as worker } from '../test-support/env-fixture.js';

const PEM = '-----BEGIN CERTIFICATE-----\nMIIBdummy\n-----END CERTIFICATE-----';
const server = { CLUSTER_SERVER_URL: 'https://k8s.example.com:6443' };

describe('cluster access settings', () => {
  it('default to no cluster, the provisioner plugin and the `kubernetes` client', () => {
    expect(loadApiConfig(api)).toMatchObject({ KUBECONFIG_CREDENTIAL_PLUGIN: 'provisioner', KEYCLOAK_LOGIN_CLIENT_ID: 'kubernetes' });
    expect(loadApiConfig(api).CLUSTER_SERVER_URL).toBeUndefined();
  });

  it('refuse an unknown plugin and a CA that is no PEM', () => {
    expect(issues(() => loadApiConfig({ ...api, KUBECONFIG_CREDENTIAL_PLUGIN: 'oidc' })).join()).toMatch(/^KUBECONFIG_CREDENTIAL_PLUGIN: /);
    expect(issues(() => loadApiConfig({ ...api, CLUSTER_CA_DATA: 'bm90IGEgY2VydA==' }))).toEqual(['CLUSTER_CA_DATA: must be a PEM certificate, plain or base64-encoded']);
  });

  it('refuse two CA sources, and a CA file that cannot be read', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kup-ca-'));
    writeFileSync(join(dir, 'ca.crt'), PEM);
    writeFileSync(join(dir, 'empty.crt'), 'nothing here');
    expect(issues(() => loadWorkerConfig({ ...worker, CLUSTER_CA_FILE: join(dir, 'ca.crt'), CLUSTER_CA_DATA: PEM }))).toEqual(['CLUSTER_CA_FILE: set either CLUSTER_CA_FILE or CLUSTER_CA_DATA, not both']);
    expect(issues(() => loadWorkerConfig({ ...worker, CLUSTER_CA_FILE: join(dir, 'missing.crt') }))).toEqual(['CLUSTER_CA_FILE: cannot be read as a PEM certificate (ENOENT)']);
    expect(issues(() => loadWorkerConfig({ ...worker, CLUSTER_CA_FILE: join(dir, 'empty.crt') }))).toEqual(['CLUSTER_CA_FILE: cannot be read as a PEM certificate (holds no PEM certificate)']);
    expect(loadWorkerConfig({ ...worker, CLUSTER_CA_FILE: join(dir, 'ca.crt') }).CLUSTER_CA_FILE).toBe(join(dir, 'ca.crt'));
  });

  it('hand on only the certificates of a cert+key file, and refuse a key alone without echoing it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kup-ca-'));
    const KEY_PEM = '-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIsecret\n-----END EC PRIVATE KEY-----';
    writeFileSync(join(dir, 'bundle.pem'), `${PEM}\n${KEY_PEM}\n`);
    writeFileSync(join(dir, 'key.pem'), `${KEY_PEM}\n`);
    const data = clusterCaData({ CLUSTER_CA_FILE: join(dir, 'bundle.pem') });
    expect(Buffer.from(data, 'base64').toString('utf8')).toBe(`${PEM}\n`);
    const refused = issues(() => loadWorkerConfig({ ...worker, CLUSTER_CA_FILE: join(dir, 'key.pem') }));
    expect(refused).toEqual(['CLUSTER_CA_FILE: cannot be read as a PEM certificate (holds no PEM certificate)']);
    expect(issues(() => loadApiConfig({ ...api, CLUSTER_CA_DATA: KEY_PEM })).join()).not.toMatch(/secret|PRIVATE/);
  });

  it('want OIDC_ISSUER_URL in the API once a server is set (the worker derives it from Keycloak)', () => {
    expect(issues(() => loadApiConfig({ ...api, ...server }))[0]).toMatch(/^OIDC_ISSUER_URL: required with CLUSTER_SERVER_URL/);
    expect(issues(() => loadApiConfig({ ...api, ...server, OIDC_ISSUER_URL: 'https://kc.example/realms/playground' }))).toEqual([]);
    expect(issues(() => loadWorkerConfig({ ...worker, ...server }))).toEqual([]);
  });

  it('count the public URLs as upstream URLs: http:// needs ALLOW_INSECURE_UPSTREAMS', () => {
    expect(issues(() => loadApiConfig({ ...api, GRAFANA_PUBLIC_URL: 'http://grafana.example' }))[0]).toMatch(/^GRAFANA_PUBLIC_URL: http:\/\//);
  });
});

describe('caDataFrom', () => {
  it('takes PEM or its base64 and gives the base64', () => {
    const b64 = Buffer.from(`${PEM}\n`).toString('base64');
    expect(caDataFrom(PEM)).toBe(b64);
    expect(caDataFrom(`${b64.slice(0, 20)}\n${b64.slice(20)}`)).toBe(b64);
    expect(caDataFrom('-----BEGIN PRIVATE KEY-----\nx\n-----END PRIVATE KEY-----')).toBeUndefined();
  });

  it('passes on the certificates of a cert+key bundle, never the key', () => {
    const KEY_PEM = '-----BEGIN PRIVATE KEY-----\nMIIEsecret\n-----END PRIVATE KEY-----';
    const SECOND = '-----BEGIN CERTIFICATE-----\nMIIBsecond\n-----END CERTIFICATE-----';
    const certs = Buffer.from(`${PEM}\n${SECOND}\n`).toString('base64');
    const bundle = `${PEM}\n${KEY_PEM}\n${SECOND}\n`;
    expect(caDataFrom(bundle)).toBe(certs);
    expect(caDataFrom(Buffer.from(bundle).toString('base64'))).toBe(certs);
    // A "certificate" block wrapping a key is no certificate.
    expect(caDataFrom(`-----BEGIN CERTIFICATE-----\n${KEY_PEM}\n-----END CERTIFICATE-----`)).toBeUndefined();
  });
});
