import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { kubeconfigSettingsFrom, renderKubeconfig, type KubeconfigSettings } from './kubeconfig.js';

const PEM = '-----BEGIN CERTIFICATE-----\nMIIBdummy\n-----END CERTIFICATE-----';
const base = { KUBECONFIG_CREDENTIAL_PLUGIN: 'provisioner' as const, KEYCLOAK_LOGIN_CLIENT_ID: 'kubernetes' };
const settings: KubeconfigSettings = {
  serverUrl: 'https://k8s.example.com:6443',
  caData: Buffer.from(`${PEM}\n`).toString('base64'),
  issuerUrl: 'https://kc.example.com/realms/playground',
  clientId: 'kubernetes',
  plugin: 'provisioner',
};

interface Kubeconfig {
  clusters: { name: string; cluster: { server: string; 'certificate-authority-data'?: string } }[];
  users: { name: string; user: { exec: { apiVersion: string; command: string; args: string[]; interactiveMode: string } } }[];
  contexts: { name: string; context: { cluster: string; user: string; namespace: string } }[];
  'current-context': string;
}

describe('kubeconfigSettingsFrom', () => {
  it('is undefined without CLUSTER_SERVER_URL, or without a known issuer', () => {
    expect(kubeconfigSettingsFrom({ ...base, OIDC_ISSUER_URL: settings.issuerUrl })).toBeUndefined();
    expect(kubeconfigSettingsFrom({ ...base, CLUSTER_SERVER_URL: settings.serverUrl })).toBeUndefined();
  });

  it('derives the issuer from Keycloak, and reads the CA file as base64 PEM', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'kup-ca-')), 'ca.crt');
    writeFileSync(file, PEM);
    const s = kubeconfigSettingsFrom({ ...base, CLUSTER_SERVER_URL: settings.serverUrl, CLUSTER_CA_FILE: file, KEYCLOAK_URL: 'https://kc.example.com/', KEYCLOAK_REALM: 'playground' });
    expect(s).toEqual(settings);
  });

  it('takes CLUSTER_CA_DATA plain or base64, and the plugin choice', () => {
    const env = { ...base, CLUSTER_SERVER_URL: settings.serverUrl, OIDC_ISSUER_URL: settings.issuerUrl, KUBECONFIG_CREDENTIAL_PLUGIN: 'kubelogin' as const };
    expect(kubeconfigSettingsFrom({ ...env, CLUSTER_CA_DATA: PEM })).toEqual({ ...settings, plugin: 'kubelogin' });
    expect(kubeconfigSettingsFrom({ ...env, CLUSTER_CA_DATA: settings.caData })?.caData).toBe(settings.caData);
  });
});

describe('renderKubeconfig', () => {
  const trainee = { username: 'jean-dupont', namespace: 'jean-dupont' };

  it('points at the cluster with its CA and makes the namespace the default', () => {
    const kc = parse(renderKubeconfig(settings, trainee)) as Kubeconfig;
    expect(kc.clusters).toEqual([{ name: 'k8s-example-com', cluster: { server: settings.serverUrl, 'certificate-authority-data': settings.caData } }]);
    expect(kc.contexts).toEqual([{ name: 'jean-dupont@k8s-example-com', context: { cluster: 'k8s-example-com', user: 'jean-dupont', namespace: 'jean-dupont' } }]);
    expect(kc['current-context']).toBe('jean-dupont@k8s-example-com');
  });

  it('logs in with `provisioner credential` for the issuer, the public client and the username', () => {
    const { exec } = (parse(renderKubeconfig(settings, trainee)) as Kubeconfig).users[0]?.user ?? {};
    expect(exec).toMatchObject({ apiVersion: 'client.authentication.k8s.io/v1', command: 'provisioner', interactiveMode: 'IfAvailable' });
    expect(exec?.args).toEqual(['credential', '--issuer', settings.issuerUrl, '--client-id', 'kubernetes', '--username', 'jean-dupont']);
  });

  it('or with kubelogin and its documented flags', () => {
    const { exec } = (parse(renderKubeconfig({ ...settings, plugin: 'kubelogin' }, trainee)) as Kubeconfig).users[0]?.user ?? {};
    expect(exec).toMatchObject({ command: 'kubectl', interactiveMode: 'IfAvailable' });
    expect(exec?.args).toEqual(['oidc-login', 'get-token', `--oidc-issuer-url=${settings.issuerUrl}`, '--oidc-client-id=kubernetes']);
  });

  it('leaves certificate-authority-data out when there is no CA to give', () => {
    const kc = parse(renderKubeconfig({ ...settings, caData: '' }, trainee)) as Kubeconfig;
    expect(kc.clusters[0]?.cluster).toEqual({ server: settings.serverUrl });
  });
});
