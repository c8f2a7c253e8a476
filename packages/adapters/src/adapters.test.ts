import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UpstreamError } from '@kup/core';
import { GrafanaHttpGateway } from './grafana.adapter.js';
import { KeycloakIdentityProvider } from './keycloak.adapter.js';
import { KubernetesClusterGateway } from './kubernetes.adapter.js';

/** A port nothing listens on: bound, then released. */
async function closedPort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  server.close();
  await once(server, 'close');
  return port;
}

/** Answers with the status named in the path (`…/status-503/…`); 299 means a 200 in HTML. */
const fake = createServer((req, res) => {
  const status = Number(/status-(\d{3})/.exec(req.url ?? '')?.[1] ?? 200);
  let body = '';
  req.on('data', (chunk: Buffer) => (body += chunk.toString()));
  req.on('end', () => {
    if (status === 299) {
      res.writeHead(200, { 'content-type': 'text/html' }).end('<html>not grafana</html>');
      return;
    }
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify({ message: `fake ${status}`, echo: body.length }));
  });
});
let fakeUrl: string;

beforeAll(async () => {
  fake.listen(0, '127.0.0.1');
  await once(fake, 'listening');
  fakeUrl = `http://127.0.0.1:${(fake.address() as AddressInfo).port}`;
});
afterAll(() => fake.close());

async function failure(work: Promise<unknown>): Promise<UpstreamError> {
  const error = await work.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(UpstreamError);
  return error as UpstreamError;
}

const grafanaAt = (baseUrl: string, timeoutMs = 2_000) =>
  new GrafanaHttpGateway({ baseUrl, adminUser: 'admin', adminPassword: 'admin-secret', timeoutMs });

describe('upstream error translation', () => {
  it('Grafana unreachable: retryable, no status', async () => {
    const error = await failure(grafanaAt(`http://127.0.0.1:${await closedPort()}`).findUser('x'));
    expect(error).toMatchObject({ system: 'grafana', status: undefined, retryable: true, code: 'GRAFANA_UNREACHABLE' });
  });

  it.each([
    [500, true],
    [503, true],
    [429, true],
    [408, true],
    [400, false],
    [401, false],
    [403, false],
    [412, false],
  ])('Grafana %i → retryable %s, with its message and without the request', async (status, retryable) => {
    const grafana = grafanaAt(`${fakeUrl}/status-${status}`);
    const error = await failure(grafana.createUser({ login: 'l', email: 'e@x.test', name: 'n', password: 'Secret-passw0rd', orgId: 1 }));
    expect(error).toMatchObject({ status, retryable });
    expect(error.message).toContain(`fake ${status}`);
    expect(error.message).not.toContain('Secret-passw0rd');
    expect(error.message).not.toContain('admin-secret');
    await grafana.close();
  });

  it('Grafana behind a base path, and a 2xx that is not JSON counts as a bad gateway', async () => {
    const error = await failure(grafanaAt(`${fakeUrl}/status-299/`).findUser('x'));
    expect(error).toMatchObject({ status: 502, retryable: true });
  });

  it('Grafana abort from the caller: retryable', async () => {
    const error = await failure(grafanaAt(fakeUrl).findUser('x', AbortSignal.abort()));
    expect(error.retryable).toBe(true);
  });

  it('Keycloak unreachable: retryable', async () => {
    const idp = new KeycloakIdentityProvider({
      baseUrl: `http://127.0.0.1:${await closedPort()}`,
      realm: 'r',
      clientId: 'c',
      clientSecret: 'client-secret',
      timeoutMs: 2_000,
    });
    const error = await failure(idp.findUser('x'));
    expect(error).toMatchObject({ system: 'keycloak', status: undefined, retryable: true });
    expect(error.message).not.toContain('client-secret');
  });

  it('Keycloak token endpoint answering 503: retryable', async () => {
    const idp = new KeycloakIdentityProvider({ baseUrl: `${fakeUrl}/status-503`, realm: 'r', clientId: 'c', clientSecret: 's', timeoutMs: 2_000 });
    expect(await failure(idp.listManaged(0, 10))).toMatchObject({ status: 503, retryable: true });
  });

  it('Kubernetes unreachable: retryable', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kup-kubeconfig-'));
    const file = join(dir, 'config');
    writeFileSync(
      file,
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [{ name: 'c', cluster: { server: `http://127.0.0.1:${await closedPort()}` } }],
        users: [{ name: 'u', user: { token: 'kube-token' } }],
        contexts: [{ name: 'x', context: { cluster: 'c', user: 'u' } }],
        'current-context': 'x',
      }),
    );
    const cluster = new KubernetesClusterGateway({ kubeconfig: file, timeoutMs: 2_000 });
    rmSync(dir, { recursive: true });
    const error = await failure(cluster.getNamespace('default'));
    expect(error).toMatchObject({ system: 'kubernetes', status: undefined, retryable: true, code: 'KUBERNETES_UNREACHABLE' });
    expect(error.message).not.toContain('kube-token');
  });
});
