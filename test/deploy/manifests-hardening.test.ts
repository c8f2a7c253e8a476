// What k8s/ does to keep callers, trainees and the cluster network away from the service:
// NetworkPolicies around api and worker, TLS on the Ingress, a password on the bundled
// Redis (that api, worker and KEDA use), and an install in another namespace that keeps the
// worker's binding. Rendered with kustomize; the Redis password also against a real
// redis-server started with the rendered configuration and the init container's script.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRedisClient, loadApiConfig } from '@kup/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../helpers/poll.js';
import { type Manifest, render, renderExampleIn, renderWithComponents, repoRoot } from '../helpers/service-account-kubeconfig.js';

type Peer = { namespaceSelector?: { matchLabels?: Record<string, string> }; podSelector?: object; ipBlock?: { cidr: string; except?: string[] } };
type Rule = { from?: Peer[]; to?: Peer[]; ports?: { port: number | string; protocol?: string }[] };
type NetworkPolicy = Manifest & {
  spec: { podSelector: { matchLabels: Record<string, string> }; policyTypes: string[]; ingress?: Rule[]; egress?: Rule[] };
};
type EnvVar = { name: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } };
type PodTemplate = {
  metadata: { labels: Record<string, string> };
  spec: {
    initContainers?: { command: string[]; env?: EnvVar[] }[];
    containers: { name: string; env?: EnvVar[]; readinessProbe?: { exec?: { command: string[] } } }[];
  };
};
type Workload = Manifest & { spec: { template: PodTemplate } };

const find = <T extends Manifest>(objects: Manifest[], kind: string, name: string): T => {
  const found = objects.find((o) => o.kind === kind && o.metadata.name === name);
  if (!found) throw new Error(`no ${kind} ${name} in the rendering`);
  return found as T;
};
const selects = (policy: NetworkPolicy, labels: Record<string, string>): boolean =>
  Object.entries(policy.spec.podSelector.matchLabels).every(([k, v]) => labels[k] === v);
const METADATA = '169.254.169.254/32';

describe('k8s/overlays/example: NetworkPolicies', () => {
  let objects: Manifest[];
  let policies: NetworkPolicy[];
  beforeAll(async () => {
    objects = await render('k8s/overlays/example');
    policies = objects.filter((o): o is NetworkPolicy => o.kind === 'NetworkPolicy');
  });

  it('isolates every pod the installation runs, for ingress', () => {
    const workloads = objects.filter((o): o is Workload => ['Deployment', 'StatefulSet'].includes(o.kind));
    expect(workloads.map((w) => w.metadata.name).sort()).toEqual(['api', 'redis', 'worker']);
    for (const w of workloads) {
      const covering = policies.filter((p) => selects(p, w.spec.template.metadata.labels) && p.spec.policyTypes.includes('Ingress'));
      expect(covering.length, w.metadata.name).toBeGreaterThan(0);
    }
  });

  it('lets into the api only the ingress controller\'s and the monitoring namespace, on its http port', () => {
    const api = find<NetworkPolicy>(objects, 'NetworkPolicy', 'api');
    expect(api.spec.policyTypes).toEqual(['Ingress', 'Egress']);
    const sources = (api.spec.ingress ?? []).map((rule) => {
      expect(rule.ports).toEqual([{ port: 'http' }]);
      expect(rule.from).toHaveLength(1);
      return rule.from?.[0]?.namespaceSelector?.matchLabels?.['kubernetes.io/metadata.name'];
    });
    expect(sources).toEqual(['ingress-nginx', 'monitoring']);
  });

  it('lets into the worker only the monitoring namespace, on its health (metrics) port', () => {
    const worker = find<NetworkPolicy>(objects, 'NetworkPolicy', 'worker');
    expect(worker.spec.ingress).toEqual([
      { from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } }], ports: [{ port: 'health' }] },
    ]);
  });

  it('lets api and worker out only on named ports, never to the cloud metadata address', () => {
    for (const name of ['api', 'worker']) {
      const policy = find<NetworkPolicy>(objects, 'NetworkPolicy', name);
      expect(policy.spec.policyTypes, name).toContain('Egress');
      for (const rule of policy.spec.egress ?? []) {
        expect(rule.ports?.length, `${name}: an egress rule without ports opens every port`).toBeGreaterThan(0);
        expect(rule.to?.length, `${name}: an egress rule without peers opens every destination`).toBeGreaterThan(0);
        for (const block of (rule.to ?? []).flatMap((peer) => (peer.ipBlock ? [peer.ipBlock] : []))) {
          if (block.cidr === '0.0.0.0/0') expect(block.except, name).toContain(METADATA);
        }
      }
    }
    expect((find<NetworkPolicy>(objects, 'NetworkPolicy', 'api').spec.egress ?? []).flatMap((r) => r.ports?.map((p) => p.port)))
      .toEqual([53, 53, 6379, 26379]);
  });
});

describe('TLS on the Ingress', () => {
  it.each(['k8s/base', 'k8s/overlays/example'])('%s: every host is served with a certificate from a Secret', async (dir) => {
    const ingress = find<Manifest & { spec: { tls?: { hosts: string[]; secretName: string }[]; rules: { host: string }[] } }>(
      await render(dir), 'Ingress', 'api');
    const covered = new Set((ingress.spec.tls ?? []).filter((t) => t.secretName).flatMap((t) => t.hosts));
    expect(ingress.spec.rules.length).toBeGreaterThan(0);
    for (const rule of ingress.spec.rules) expect(covered.has(rule.host), rule.host).toBe(true);
  });
});

describe('components/redis and components/keda-worker: one password from the Secret', () => {
  let objects: Manifest[];
  beforeAll(async () => {
    objects = await renderExampleIn('k8s-user-provisioner', ['keda-worker']);
  });
  const secretKey = (env: EnvVar[] | undefined, name: string) => env?.find((e) => e.name === name)?.valueFrom?.secretKeyRef;
  const password = { name: 'k8s-user-provisioner', key: 'REDIS_PASSWORD' };

  it('gives api and worker REDIS_PASSWORD from the Secret, and keeps credentials out of REDIS_URL', () => {
    for (const name of ['api', 'worker']) {
      expect(secretKey(find<Workload>(objects, 'Deployment', name).spec.template.spec.containers[0]?.env, 'REDIS_PASSWORD'), name).toEqual(password);
    }
    const secret = find<Manifest & { stringData: Record<string, string> }>(objects, 'Secret', 'k8s-user-provisioner');
    expect(secret.stringData.REDIS_URL).not.toContain('@');
    expect(secret.stringData.REDIS_PASSWORD).toMatch(/^replace-me/);
  });

  it('has KEDA authenticate with the same Secret key, and lets its operator through to Redis', () => {
    const auth = find<Manifest & { spec: { secretTargetRef: { parameter: string; name: string; key: string }[] } }>(objects, 'TriggerAuthentication', 'redis');
    expect(auth.spec.secretTargetRef).toEqual([{ parameter: 'password', ...password }]);
    const scaled = find<Manifest & { spec: { triggers: { authenticationRef?: { name: string } }[] } }>(objects, 'ScaledObject', 'worker');
    expect(scaled.spec.triggers.map((t) => t.authenticationRef?.name)).toEqual(['redis', 'redis']);
    const redis = find<NetworkPolicy>(objects, 'NetworkPolicy', 'redis');
    expect((redis.spec.ingress ?? []).map((r) => r.from?.[0]?.namespaceSelector?.matchLabels?.['kubernetes.io/metadata.name'] ?? 'own pods'))
      .toEqual(['own pods', 'keda']);
  });

  it('still renders KEDA without the bundled Redis (its NetworkPolicy patch then has nothing to do)', async () => {
    const rendered = await renderWithComponents(['keda-worker']);
    expect(rendered.some((o) => o.kind === 'NetworkPolicy' && o.metadata.name === 'redis')).toBe(false);
    expect(rendered.some((o) => o.kind === 'TriggerAuthentication')).toBe(true);
  });

  describe('on a real redis-server, configured as the StatefulSet does', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kup-redis-'));
    const secret = randomBytes(24).toString('hex');
    let port = 0;
    let server: ChildProcess | undefined;
    const sh = (script: string, env: Record<string, string>): Promise<number> =>
      new Promise((done) => execFile('sh', ['-c', script], { env: { PATH: process.env.PATH ?? '', ...env } }, (e) => done(e ? Number(e.code ?? 1) : 0)));

    beforeAll(async () => {
      port = await new Promise<number>((resolve) => {
        const probe = createServer().listen(0, '127.0.0.1', () => {
          const { port: free } = probe.address() as { port: number };
          probe.close(() => resolve(free));
        });
      });
      const sts = find<Workload>(objects, 'StatefulSet', 'redis');
      const init = sts.spec.template.spec.initContainers?.[0];
      expect(secretKey(init?.env, 'REDIS_PASSWORD')).toEqual(password);
      // The init container's own script, with its memory volume moved to the temporary folder.
      const script = (init?.command ?? []).at(-1)?.replaceAll('/run/redis-auth', dir) ?? '';
      expect(await sh(script, { REDIS_PASSWORD: secret })).toBe(0);
      const cm = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name.startsWith('redis')) as Manifest & { data: Record<string, string> };
      const conf = (cm.data['redis.conf'] ?? '').replace(/^dir .*$/m, `dir ${dir}`).replace(/^port .*$/m, `port ${port}`)
        .replace(/^bind .*$/m, 'bind 127.0.0.1').replaceAll('/run/redis-auth', dir);
      writeFileSync(join(dir, 'redis.conf'), conf);
      server = spawn('redis-server', [join(dir, 'redis.conf')], { stdio: 'ignore' });
      await eventually('redis-server listening', async () =>
        ((await sh(`redis-cli -p ${port} ping`, { REDISCLI_AUTH: secret })) === 0 ? true : undefined), 20_000);
    });

    afterAll(async () => {
      // Gone before its folder is: Redis refuses a SIGTERM shutdown whose final save fails,
      // so removing the folder first left the server running after the suite.
      if (server && server.exitCode === null && server.signalCode === null) {
        const exited = new Promise((resolve) => server?.once('exit', resolve));
        server.kill('SIGTERM');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    });

    it('keeps the password out of the configuration and argv', () => {
      const cm = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name.startsWith('redis')) as Manifest & { data: Record<string, string> };
      expect(cm.data['redis.conf']).toMatch(/^include \/run\/redis-auth\/auth\.conf$/m);
      expect(cm.data['redis.conf']).not.toMatch(/^requirepass/m);
      expect(readFileSync(join(dir, 'auth.conf'), 'utf8')).toBe(`requirepass "${secret}"\n`);
    });

    it('refuses a client without the password', async () => {
      // A raw RESP exchange, so what is asserted is Redis's answer, not a client library's
      // handshake (ioredis 6 closes the connection when its own start-up commands get NOAUTH).
      const answer = await new Promise<string>((resolve, reject) => {
        const socket = connect({ port, host: '127.0.0.1' }, () => socket.write('*2\r\n$3\r\nGET\r\n$8\r\nanything\r\n'));
        socket.setEncoding('utf8');
        socket.once('data', (data: string) => {
          socket.destroy();
          resolve(data);
        });
        socket.once('error', reject);
        socket.setTimeout(10_000, () => socket.destroy(new Error('no answer from redis-server')));
      });
      expect(answer).toMatch(/^-NOAUTH/);
    });

    it('answers api and worker, configured with REDIS_URL and REDIS_PASSWORD as the pods are', async () => {
      const config = loadApiConfig({
        REDIS_URL: `redis://127.0.0.1:${port}`, REDIS_PASSWORD: secret,
        API_TOKENS: randomBytes(16).toString('hex'), RESULT_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
      });
      const client = createRedisClient(config, { maxRetriesPerRequest: 1 });
      try {
        expect(await client.ping()).toBe('PONG');
      } finally {
        client.disconnect();
      }
    });

    it('is ready by its probe only with the password', async () => {
      const probe = find<Workload>(objects, 'StatefulSet', 'redis').spec.template.spec.containers[0]?.readinessProbe?.exec?.command ?? [];
      const script = (probe.at(-1) ?? '').replace('redis-cli', `redis-cli -p ${port}`);
      expect(await sh(script, { REDISCLI_AUTH: secret })).toBe(0);
      expect(await sh(script, { REDISCLI_AUTH: 'wrong' })).not.toBe(0);
      expect(await sh(script, {})).not.toBe(0);
    });
  });
});

describe('k8s/overlays/example installed in another namespace', () => {
  const namespace = `kup-elsewhere-${randomBytes(3).toString('hex')}`;
  let objects: Manifest[];
  beforeAll(async () => {
    objects = await renderExampleIn(namespace, ['keda-worker', 'purge-inventory']);
  });

  it('binds the worker\'s ClusterRoles to its ServiceAccount as rendered', () => {
    const accounts = new Set(objects.filter((o) => o.kind === 'ServiceAccount').map((o) => `${o.metadata.namespace}/${o.metadata.name}`));
    const bindings = objects.filter((o) => o.kind === 'ClusterRoleBinding') as (Manifest & { subjects: { kind: string; name: string; namespace: string }[] })[];
    expect(bindings.length).toBe(2);
    for (const b of bindings) {
      for (const s of b.subjects.filter((x) => x.kind === 'ServiceAccount')) {
        expect(accounts.has(`${s.namespace}/${s.name}`), `${b.metadata.name} → ${s.namespace}/${s.name}`).toBe(true);
      }
    }
  });

  it('names no namespace of the default install anywhere, KEDA\'s Redis address and the scope policy included', () => {
    const text = JSON.stringify(objects);
    expect(text).not.toContain('k8s-user-provisioner.svc');
    expect(text).not.toContain('system:serviceaccount:k8s-user-provisioner');
    const scaled = find<Manifest & { spec: { triggers: { metadata: { address: string } }[] } }>(objects, 'ScaledObject', 'worker');
    expect(scaled.spec.triggers.map((t) => t.metadata.address)).toEqual([`redis.${namespace}.svc:6379`, `redis.${namespace}.svc:6379`]);
  });

  it('matches the worker in the scope policy by its grant, which the rendering binds to it', () => {
    const policy = readFileSync(join(repoRoot, 'k8s/base/worker-scope-policy.yaml'), 'utf8');
    const marker = policy.match(/authorizer\.group\('([^']+)'\)\.resource\('([^']+)'\)\.name\('([^']+)'\)\.check\('([^']+)'\)/);
    expect(marker).not.toBeNull();
    const [, group, resource, name, verb] = marker ?? [];
    const role = find<Manifest & { rules: { apiGroups: string[]; resources: string[]; resourceNames?: string[]; verbs: string[] }[] }>(
      objects, 'ClusterRole', 'k8s-user-provisioner-worker');
    expect(role.rules).toContainEqual({ apiGroups: [group], resources: [resource], resourceNames: [name], verbs: [verb] });
  });
});
