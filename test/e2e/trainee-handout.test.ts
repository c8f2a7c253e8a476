// What a trainer hands out, against the stack: the kubeconfig (YAML, the trainee's namespace
// as default, an exec plugin, no secret), the welcome as JSON or text, and the welcome in a
// create's result when asked (`welcome: true`).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { emailOf, uniqueUsername } from '../helpers/names.js';
import { adminKubeConfig } from '../helpers/stack.js';
import { startService, type Service } from './service-harness.js';

describe('kubeconfig and welcome', () => {
  let s: Service;
  let password: string;
  let createJobId: string;
  const username = uniqueUsername('t-hand');
  const cluster = adminKubeConfig().getCurrentCluster();
  const call = (url: string, headers: Record<string, string> = {}) => s.api.inject({ method: 'GET', url, headers: { authorization: s.token, ...headers } });

  beforeAll(async () => {
    // The cluster as trainees reach it: here the stack's apiserver and its CA (the stack's
    // env names them; a stack made before it did gets them from the admin kubeconfig).
    if (!process.env.CLUSTER_SERVER_URL) process.env.CLUSTER_SERVER_URL = cluster?.server;
    if (!process.env.CLUSTER_CA_FILE) process.env.CLUSTER_CA_DATA = cluster?.caData ?? '';
    process.env.GRAFANA_PUBLIC_URL = 'https://grafana.example.org';
    s = await startService();
    const created = await s.api.inject({
      method: 'POST',
      url: '/provisioner',
      headers: { authorization: s.token, prefer: 'wait=120' },
      payload: { email: emailOf(username), full_name: 'Hand Out', expiresAt: '2031-05-01T00:00:00Z', welcome: true },
    });
    expect(created.statusCode, created.body).toBe(200);
    password = created.json().password;
    createJobId = created.json().jobId;
  });

  afterAll(async () => {
    await s?.api.inject({ method: 'DELETE', url: '/provisioner', headers: { authorization: s.token, prefer: 'wait=150' }, payload: { email: emailOf(username) } });
    await s?.close();
  });

  it('gives a kubeconfig for the trainee: their namespace as default, an exec plugin, no secret', async () => {
    const response = await call(`/trainees/${username}/kubeconfig`);
    expect(response.statusCode, response.body).toBe(200);
    expect(response.headers['content-type']).toMatch(/^application\/yaml/);
    const config = parse(response.body);
    expect(config.clusters[0].cluster.server).toBe(process.env.CLUSTER_SERVER_URL);
    const ca = Buffer.from(config.clusters[0].cluster['certificate-authority-data'], 'base64').toString();
    expect(ca).toContain('-----BEGIN CERTIFICATE-----');
    expect(config.contexts[0].context).toMatchObject({ namespace: username, user: username });
    expect(config.users[0].user.exec).toMatchObject({ apiVersion: 'client.authentication.k8s.io/v1', command: 'provisioner' });
    expect(config.users[0].user.exec.args).toEqual(expect.arrayContaining(['credential', '--username', username]));
    expect(response.body).not.toContain(password);
    expect(response.body).not.toMatch(/client-secret|token:/);
  });

  it('gives the welcome as JSON by default, as text by Accept or format', async () => {
    const json = await call(`/trainees/${username}/welcome`);
    expect(json.statusCode, json.body).toBe(200);
    expect(json.json()).toMatchObject({ username, email: emailOf(username), namespace: username, expiresAt: '2031-05-01T00:00:00Z', grafanaUrl: 'https://grafana.example.org' });
    expect(json.json().cluster.kubeconfig).toContain(`namespace: ${username}`);
    for (const [url, headers] of [[`/trainees/${username}/welcome?format=text`, {}], [`/trainees/${username}/welcome`, { accept: 'text/plain' }]] as const) {
      const text = await call(url, headers);
      expect(text.headers['content-type']).toMatch(/^text\/plain/);
      expect(text.body).toContain(`Namespace: ${username}`);
      expect(text.body).toContain('Expires:   2031-05-01T00:00:00Z');
    }
    for (const answer of [json.body, (await call(`/trainees/${username}/welcome?format=text`)).body]) expect(answer).not.toContain(password);
    expect((await call(`/trainees/${username}/welcome?format=yaml`)).statusCode).toBe(400);
  });

  it('puts the welcome in the create result when asked, without the password in it', async () => {
    const job = await call(`/jobs/${createJobId}`);
    expect(job.statusCode).toBe(200);
    const { welcome, password: shown } = job.json().result;
    expect(shown).toBe(password);
    expect(welcome).toMatchObject({ username, namespace: username, expiresAt: '2031-05-01T00:00:00Z' });
    expect(JSON.stringify(welcome)).not.toContain(password);
  });
});
