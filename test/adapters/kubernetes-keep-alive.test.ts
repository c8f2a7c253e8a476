// The Kubernetes adapter reuses its TLS connections: client-node 2 on its own makes a new
// undici Agent, so a new connection (with a full handshake, on both sides), for every request.
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { afterEach, describe, expect, it } from 'vitest';
import { KubernetesClusterGateway } from '@kup/adapters';
import { env } from '../stack/helpers.js';

interface Connected { connectParams: { port: string | number; protocol: string } }

describe('kubernetes adapter: connections', () => {
  const cleanups: (() => unknown)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0)) await cleanup();
  });

  /** Counts the TLS connections undici opens to the apiserver (its diagnostics channel). */
  function countConnections(): () => number {
    const kubeconfig = new KubeConfig();
    kubeconfig.loadFromFile(env('KUBECONFIG'));
    const port = new URL(kubeconfig.getCurrentCluster()?.server ?? '').port;
    let count = 0;
    const onConnected = (message: unknown) => {
      const { connectParams } = message as Connected;
      if (String(connectParams.port) === port && connectParams.protocol === 'https:') count += 1;
    };
    subscribe('undici:client:connected', onConnected);
    cleanups.push(() => unsubscribe('undici:client:connected', onConnected));
    return () => count;
  }

  it('sends sequential requests over one kept-alive connection', async () => {
    const connections = countConnections();
    const cluster = new KubernetesClusterGateway({ kubeconfig: env('KUBECONFIG'), timeoutMs: 10_000 });
    cleanups.push(() => cluster.close());
    for (let i = 0; i < 10; i += 1) {
      expect((await cluster.getNamespace('default'))?.name).toBe('default');
    }
    expect(connections()).toBeGreaterThanOrEqual(1);
    expect(connections()).toBeLessThanOrEqual(2);
  });

  it('a second adapter (another kubeconfig load) has connections of its own, and close ends them', async () => {
    const connections = countConnections();
    const a = new KubernetesClusterGateway({ kubeconfig: env('KUBECONFIG'), timeoutMs: 10_000 });
    const b = new KubernetesClusterGateway({ kubeconfig: env('KUBECONFIG'), timeoutMs: 10_000 });
    await a.getNamespace('default');
    await b.getNamespace('default');
    expect(connections()).toBe(2);
    await a.close();
    await b.close();
    // After close, a request opens a fresh connection (the pool is gone, not reused).
    await a.getNamespace('default');
    expect(connections()).toBe(3);
    await a.close();
  });

  it('a rotated client certificate (its file changed) gets a new connection; the same one keeps the old', async () => {
    // A kubeconfig whose client certificate is a file, as with rotated certificates on disk.
    const admin = new KubeConfig();
    admin.loadFromFile(env('KUBECONFIG'));
    const cluster = admin.getCurrentCluster();
    const user = admin.getCurrentUser();
    const dir = mkdtempSync(join(tmpdir(), 'kup-kc-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const certFile = join(dir, 'client.crt');
    writeFileSync(certFile, Buffer.from(user?.certData ?? '', 'base64'));
    writeFileSync(join(dir, 'client.key'), Buffer.from(user?.keyData ?? '', 'base64'));
    writeFileSync(join(dir, 'kubeconfig'), [
      'apiVersion: v1', 'kind: Config', 'current-context: c',
      'clusters:', `- name: c`, '  cluster:', `    server: ${cluster?.server ?? ''}`, `    certificate-authority-data: ${cluster?.caData ?? ''}`,
      'users:', '- name: u', '  user:', `    client-certificate: ${certFile}`, `    client-key: ${join(dir, 'client.key')}`,
      'contexts:', '- name: c', '  context: { cluster: c, user: u }', '',
    ].join('\n'));
    const connections = countConnections();
    const gateway = new KubernetesClusterGateway({ kubeconfig: join(dir, 'kubeconfig'), timeoutMs: 10_000 });
    cleanups.push(() => gateway.close());
    await gateway.getNamespace('default');
    await gateway.getNamespace('default');
    expect(connections()).toBe(1);
    // "Rotated": the file's bytes change (a trailing comment line; the certificate stays valid).
    appendFileSync(certFile, '# rotated\n');
    await gateway.getNamespace('default');
    await gateway.getNamespace('default');
    expect(connections()).toBe(2);
  });
});
