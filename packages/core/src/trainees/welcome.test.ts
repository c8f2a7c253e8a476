import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { buildWelcome, welcomeSettingsFrom } from './welcome.js';

const env = {
  CLUSTER_SERVER_URL: 'https://k8s.example.com:6443',
  CLUSTER_CA_DATA: '-----BEGIN CERTIFICATE-----\nMIIBdummy\n-----END CERTIFICATE-----',
  OIDC_ISSUER_URL: 'https://kc.example.com/realms/playground',
  KEYCLOAK_LOGIN_CLIENT_ID: 'kubernetes',
  KUBECONFIG_CREDENTIAL_PLUGIN: 'provisioner' as const,
  GRAFANA_PUBLIC_URL: 'https://grafana.example.com',
  API_PUBLIC_URL: 'https://provisioner.example.com/',
};
const trainee = { username: 'jean-dupont', namespace: 'jean-dupont', expiresAt: '2027-06-30T00:00:00.000Z', email: 'jean.dupont@example.com' };

describe('buildWelcome', () => {
  it('gives the username, namespace, Grafana, the kubeconfig and the expiry, as JSON and text', () => {
    const { json, text } = buildWelcome(welcomeSettingsFrom(env), trainee);
    expect(json).toMatchObject({ username: 'jean-dupont', email: 'jean.dupont@example.com', namespace: 'jean-dupont', expiresAt: trainee.expiresAt, grafanaUrl: env.GRAFANA_PUBLIC_URL });
    expect(json.cluster).toMatchObject({ serverUrl: env.CLUSTER_SERVER_URL, plugin: 'provisioner', kubeconfigUrl: 'https://provisioner.example.com/trainees/jean-dupont/kubeconfig' });
    expect((parse(json.cluster?.kubeconfig ?? '') as { contexts: { context: { namespace: string } }[] }).contexts[0]?.context.namespace).toBe('jean-dupont');
    for (const part of ['jean-dupont', env.GRAFANA_PUBLIC_URL, env.CLUSTER_SERVER_URL, trainee.expiresAt, 'provisioner', 'current-context:']) expect(text).toContain(part);
    expect(json.steps.join('\n')).toMatch(/link and a code/);
  });

  it('tells kubelogin users about the browser login', () => {
    const { json } = buildWelcome(welcomeSettingsFrom({ ...env, KUBECONFIG_CREDENTIAL_PLUGIN: 'kubelogin' }), trainee);
    expect(json.steps.join('\n')).toMatch(/krew install oidc-login/);
  });

  it('works without a cluster, a Grafana URL or an expiry', () => {
    const { json, text } = buildWelcome({}, { username: 'x-y', namespace: 'x-y', expiresAt: null });
    expect(json).toMatchObject({ cluster: null, grafanaUrl: null, email: null, expiresAt: null });
    expect(text).toContain('Expires:   never');
    expect(text).not.toContain('kubeconfig ---');
  });
});
