// The Kubernetes adapter reuses its TLS connections: client-node 2 on its own makes a new
// undici Agent, so a new connection (with a full handshake, on both sides), for every request.
// Sequential calls go over kept-alive HTTP/1.1; a burst beyond its few connections over one HTTP/2.
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { afterEach, describe, expect, it } from 'vitest';
import { CREDENTIALS_REUSE_MS, HTTP1_CONNECTIONS, KubernetesClusterGateway } from '@kup/adapters';
import { eventually } from '../helpers/poll.js';
import { env } from '../stack/helpers.js';

interface Connected { connectParams: { port: string | number; protocol: string }; socket: { alpnProtocol?: string | false } }

describe('kubernetes adapter: connections', () => {
  const cleanups: (() => unknown)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0)) await cleanup();
  });

  /** Counts the TLS connections undici opens to the apiserver (its diagnostics channel), by ALPN protocol. */
  function watchConnections(): { total: () => number; of: (protocol: 'http/1.1' | 'h2') => number } {
    const kubeconfig = new KubeConfig();
    kubeconfig.loadFromFile(env('KUBECONFIG'));
    const port = new URL(kubeconfig.getCurrentCluster()?.server ?? '').port;
    const seen: string[] = [];
    const onConnected = (message: unknown) => {
      const { connectParams, socket } = message as Connected;
      if (String(connectParams.port) === port && connectParams.protocol === 'https:') seen.push(socket.alpnProtocol || 'none');
    };
    subscribe('undici:client:connected', onConnected);
    cleanups.push(() => unsubscribe('undici:client:connected', onConnected));
    return { total: () => seen.length, of: (protocol) => seen.filter((p) => p === protocol).length };
  }

  function countConnections(): () => number {
    return watchConnections().total;
  }

  /**
   * Connections after sequential requests have settled: a request sent the instant the previous
   * one ended may open a second HTTP/1.1 socket (the first is not yet released); after that the
   * pool only reuses.
   */
  async function settled(cluster: KubernetesClusterGateway, connections: () => number): Promise<number> {
    for (let i = 0; i < 3; i += 1) await cluster.getNamespace('default');
    const count = connections();
    for (let i = 0; i < 5; i += 1) await cluster.getNamespace('default');
    expect(connections()).toBe(count);
    return count;
  }

  it('sends sequential requests over one kept-alive HTTP/1.1 connection', async () => {
    const connections = watchConnections();
    const cluster = new KubernetesClusterGateway({ kubeconfig: env('KUBECONFIG'), timeoutMs: 10_000 });
    cleanups.push(() => cluster.close());
    for (let i = 0; i < 10; i += 1) {
      expect((await cluster.getNamespace('default'))?.name).toBe('default');
    }
    expect(connections.total()).toBeGreaterThanOrEqual(1);
    expect(connections.total()).toBeLessThanOrEqual(2);
    expect(connections.of('http/1.1')).toBe(connections.total());
    expect(await settled(cluster, connections.total)).toBe(connections.total());
  });

  it('a burst beyond the HTTP/1.1 connections shares one HTTP/2 connection, and later bursts reuse both', async () => {
    const connections = watchConnections();
    const cluster = new KubernetesClusterGateway({ kubeconfig: env('KUBECONFIG'), timeoutMs: 10_000 });
    cleanups.push(() => cluster.close());
    const burst = async () => {
      const answers = await Promise.all(Array.from({ length: 30 }, () => cluster.getNamespace('default')));
      expect(answers.every((a) => a?.name === 'default')).toBe(true);
    };
    await burst();
    expect(connections.of('http/1.1')).toBe(HTTP1_CONNECTIONS);
    expect(connections.of('h2')).toBe(1);
    expect(connections.total()).toBe(HTTP1_CONNECTIONS + 1);
    await burst();
    await burst();
    expect(connections.total()).toBe(HTTP1_CONNECTIONS + 1);
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
    const before = await settled(gateway, connections);
    expect(before).toBeGreaterThanOrEqual(1);
    expect(before).toBeLessThanOrEqual(2);
    // "Rotated": the file's bytes change (a trailing comment line; the certificate stays valid).
    appendFileSync(certFile, '# rotated\n');
    // Credentials resolved for one request serve those of the next second (CREDENTIALS_REUSE_MS).
    await eventually('a new connection for the rotated certificate', async () => {
      await gateway.getNamespace('default');
      return connections() > before ? true : undefined;
    }, 10 * CREDENTIALS_REUSE_MS, CREDENTIALS_REUSE_MS / 4);
    const after = await settled(gateway, connections);
    expect(after).toBeGreaterThan(before);
    expect(after).toBeLessThanOrEqual(before + 2);
  });
});
