// k8s/: renders with kustomize, is accepted by the real apiserver (server-side dry run,
// PodSecurity "restricted" warnings included), and says what operators rely on.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { apiEnv, QUEUES, workerEnv } from '@kup/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyObjects, kubectl, type Manifest, render, renderWithComponents, repoRoot } from '../helpers/service-account-kubeconfig.js';
import { MALLOC_ENV } from '../../bench/node-flags.js';

type Container = {
  name: string;
  args?: string[];
  env?: { name: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } }[];
  envFrom?: { configMapRef?: { name: string } }[];
  ports?: { name: string; containerPort: number }[];
  readinessProbe?: { httpGet?: { path: string; port: string } };
  livenessProbe?: { httpGet?: { path: string; port: string } };
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: { allowPrivilegeEscalation?: boolean; readOnlyRootFilesystem?: boolean; capabilities?: { drop?: string[] } };
};
type PodSpec = {
  serviceAccountName?: string;
  terminationGracePeriodSeconds?: number;
  securityContext?: { runAsNonRoot?: boolean; runAsUser?: number; seccompProfile?: { type: string } };
  containers: Container[];
};
type Workload = Manifest & { spec: { template: { spec: PodSpec } } };

const find = (objects: Manifest[], kind: string, name: string): Manifest => {
  const found = objects.find((o) => o.kind === kind && o.metadata.name === name);
  if (!found) throw new Error(`no ${kind} ${name} in the rendered manifests`);
  return found;
};
const container = (objects: Manifest[], name: string): Container => {
  const c = (find(objects, 'Deployment', name) as Workload).spec.template.spec.containers[0];
  if (!c) throw new Error(`Deployment ${name} has no container`);
  return c;
};
/** Every variable a container gets: its env plus the keys of the ConfigMaps it loads whole. */
function envNames(objects: Manifest[], c: Container): string[] {
  const fromConfigMaps = (c.envFrom ?? []).flatMap((source) => {
    const name = source.configMapRef?.name;
    const cm = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === name) as (Manifest & { data?: Record<string, string> }) | undefined;
    if (!cm) throw new Error(`container ${c.name} loads a ConfigMap ${name} that is not rendered`);
    return Object.keys(cm.data ?? {});
  });
  return [...new Set([...(c.env ?? []).map((e) => e.name), ...fromConfigMaps])];
}
const required = (shape: Record<string, { safeParse(v: unknown): { success: boolean } }>): string[] =>
  Object.entries(shape).filter(([, schema]) => !schema.safeParse(undefined).success).map(([key]) => key);

describe('k8s/overlays/example', () => {
  let objects: Manifest[];
  beforeAll(async () => {
    objects = await render('k8s/overlays/example');
  });

  it('ships no CronJobs: schedules live in BullMQ', () => {
    expect(objects.filter((o) => o.kind === 'CronJob')).toEqual([]);
  });

  it('puts every namespaced object in k8s-user-provisioner', () => {
    const clusterScoped = new Set(['Namespace', 'ClusterRole', 'ClusterRoleBinding']);
    const stray = objects.filter((o) => !clusterScoped.has(o.kind) && o.metadata.namespace !== 'k8s-user-provisioner');
    expect(stray.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual([]);
  });

  it('runs api and worker hardened, probed and bounded', () => {
    for (const [name, port] of [['api', 'http'], ['worker', 'health']] as const) {
      const pod = (find(objects, 'Deployment', name) as Workload).spec.template.spec;
      expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 10001, seccompProfile: { type: 'RuntimeDefault' } });
      const c = container(objects, name);
      expect(c.securityContext).toMatchObject({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } });
      expect(c.livenessProbe?.httpGet).toEqual({ path: '/healthz', port });
      expect(c.readinessProbe?.httpGet).toEqual({ path: '/readyz', port });
      expect(Object.keys(c.resources?.requests ?? {}).sort()).toEqual(['cpu', 'memory']);
      expect(c.resources?.limits?.memory).toBeTruthy();
      // Node with pinned heap flags (docs/operations.md, "Heap sizes"; node-flags.test.ts checks them).
      expect(c.args?.[0]).toBe('node');
      expect(c.args?.at(-1)).toBe(`apps/${name}/dist/main.js`);
    }
    const worker = (find(objects, 'Deployment', 'worker') as Workload).spec.template.spec;
    expect(worker.serviceAccountName).toBe('worker');
    expect(worker.terminationGracePeriodSeconds).toBeGreaterThanOrEqual(30);
    // Running jobs get WORKER_SHUTDOWN_TIMEOUT_SECONDS, which must end before the kubelet's SIGKILL.
    const shutdown = (container(objects, 'worker').env ?? []).find((e) => e.name === 'WORKER_SHUTDOWN_TIMEOUT_SECONDS') as { value?: string } | undefined;
    const shutdownSeconds = Number(shutdown?.value ?? workerEnv.shape.WORKER_SHUTDOWN_TIMEOUT_SECONDS.parse(undefined));
    expect(shutdownSeconds).toBeLessThan((worker.terminationGracePeriodSeconds ?? 30) - 5);
    expect(container(objects, 'worker').ports).toContainEqual({ name: 'health', containerPort: 9464 });
    expect(find(objects, 'PodDisruptionBudget', 'worker')).toMatchObject({
      spec: { selector: { matchLabels: { 'app.kubernetes.io/component': 'worker' } } },
    });
  });

  it('spreads api and worker over nodes, and lets drains evict their unready pods', () => {
    for (const name of ['api', 'worker']) {
      const own = { 'app.kubernetes.io/name': 'k8s-user-provisioner', 'app.kubernetes.io/component': name };
      const pod = (find(objects, 'Deployment', name) as Workload).spec.template.spec as PodSpec & { topologySpreadConstraints?: unknown[] };
      expect(pod.topologySpreadConstraints, name).toEqual([
        { topologyKey: 'kubernetes.io/hostname', maxSkew: 1, whenUnsatisfiable: 'ScheduleAnyway', labelSelector: { matchLabels: own } },
      ]);
      // With Redis down every pod is unready: the default policy would block every drain.
      expect(find(objects, 'PodDisruptionBudget', name), name).toMatchObject({
        spec: { unhealthyPodEvictionPolicy: 'AlwaysAllow', selector: { matchLabels: own } },
      });
    }
  });

  it('gives each app only variables the config schemas know, and all its own requires', () => {
    // api and worker share one ConfigMap, so the api also sees (and ignores) worker settings.
    // The malloc settings are read by the C library, not by our config (docs/operations.md, "Heap sizes").
    const known = new Set([...Object.keys(apiEnv.shape), ...Object.keys(workerEnv.shape), ...MALLOC_ENV]);
    for (const [name, schema] of [['api', apiEnv], ['worker', workerEnv]] as const) {
      const names = envNames(objects, container(objects, name));
      expect(names.filter((n) => !known.has(n)), `${name}: unknown variables`).toEqual([]);
      expect(required(schema.shape).filter((n) => !names.includes(n)), `${name}: missing variables`).toEqual([]);
    }
    // Least privilege for secrets too: the api never sees upstream credentials.
    const apiSecrets = (container(objects, 'api').env ?? []).filter((e) => e.valueFrom?.secretKeyRef).map((e) => e.name);
    expect(apiSecrets.sort()).toEqual(['API_TOKENS', 'BULL_BOARD_ADMIN_TOKENS', 'REDIS_PASSWORD', 'REDIS_URL', 'RESULT_ENCRYPTION_KEY']);
  });

  it('has a placeholder for every Secret key the pods read, and no real-looking secret', () => {
    const secret = find(objects, 'Secret', 'k8s-user-provisioner') as Manifest & { stringData: Record<string, string> };
    const read = ['api', 'worker'].flatMap((n) => (container(objects, n).env ?? []).flatMap((e) => e.valueFrom?.secretKeyRef?.key ?? []));
    expect([...new Set(read)].filter((key) => !(key in secret.stringData))).toEqual([]);
    for (const [key, value] of Object.entries(secret.stringData)) {
      if (key !== 'REDIS_URL') expect(value, key).toMatch(/^replace-me/);
    }
    expect(() => apiEnv.shape.RESULT_ENCRYPTION_KEY.parse(secret.stringData.RESULT_ENCRYPTION_KEY)).toThrow();
  });

  it('lets the Ingress wait longer than the longest Prefer: wait, so a long wait ends in our 202, not a 504', () => {
    const ingress = find(objects, 'Ingress', 'api') as Manifest & { metadata: { annotations?: Record<string, string> } };
    const readTimeout = Number(ingress.metadata.annotations?.['nginx.ingress.kubernetes.io/proxy-read-timeout']);
    const configMap = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name.startsWith('k8s-user-provisioner')) as Manifest & { data?: Record<string, string> };
    const configured = apiEnv.shape.MAX_WAIT_SECONDS.parse(configMap.data?.MAX_WAIT_SECONDS);
    const longestAllowed = apiEnv.shape.MAX_WAIT_SECONDS.unwrap().maxValue ?? Number.POSITIVE_INFINITY;
    expect(readTimeout).toBeGreaterThan(configured);
    expect(readTimeout).toBeGreaterThan(longestAllowed);
  });

  it('leaves the api replica count to its HPA', () => {
    expect(find(objects, 'HorizontalPodAutoscaler', 'api')).toMatchObject({ spec: { scaleTargetRef: { kind: 'Deployment', name: 'api' } } });
    expect((find(objects, 'Deployment', 'api') as Workload).spec).not.toHaveProperty('replicas');
  });

  it('runs Redis with AOF, noeviction and a PVC', () => {
    const cm = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name.startsWith('redis')) as
      (Manifest & { data: Record<string, string> }) | undefined;
    const conf = cm?.data['redis.conf'] ?? '';
    expect(conf).toMatch(/^appendonly yes$/m);
    expect(conf).toMatch(/^maxmemory-policy noeviction$/m);
    const sts = find(objects, 'StatefulSet', 'redis') as Manifest & { spec: { volumeClaimTemplates?: unknown[]; template: { spec: PodSpec } } };
    expect(sts.spec.volumeClaimTemplates).toHaveLength(1);
    // A fork (AOF rewrite, RDB save) copies pages on write: maxmemory leaves room for it
    // under the limit, and the memory request is the limit.
    const memory = sts.spec.template.spec.containers.find((c) => c.name === 'redis')?.resources ?? {};
    expect(memory.requests?.memory).toBe(memory.limits?.memory);
    const limitMib = Number(/^(\d+)Mi$/.exec(memory.limits?.memory ?? '')?.[1] ?? Number.NaN);
    const maxmemoryMib = Number(/^maxmemory (\d+)mb$/m.exec(conf)?.[1] ?? Number.NaN); // Redis's mb is MiB
    expect(maxmemoryMib).toBeLessThanOrEqual(0.6 * limitMib);
  });
});

describe('k8s/components/keda-worker', () => {
  it('scales the worker Deployment on the waiting lists of the real queues', async () => {
    const rendered = await renderWithComponents(['keda-worker']);
    const scaled = rendered.find((o) => o.kind === 'ScaledObject') as
      Manifest & { spec: { scaleTargetRef: { name: string }; triggers: { metadata: { listName: string } }[] } };
    expect(scaled.spec.scaleTargetRef.name).toBe('worker');
    const worker = rendered.find((o) => o.kind === 'Deployment' && o.metadata.name === 'worker');
    expect((worker as Workload).spec, 'KEDA owns the replica count').not.toHaveProperty('replicas');
    const prefix = workerEnv.shape.QUEUE_PREFIX.parse(undefined);
    expect(scaled.spec.triggers.map((t) => t.metadata.listName).sort())
      .toEqual([`${prefix}:${QUEUES.fleetUser}:wait`, `${prefix}:${QUEUES.provisioning}:wait`]);
  });
});

/**
 * `kubectl apply --dry-run=server` of a rendering, on the stack's apiserver. A dry run does
 * not persist the Namespace, so namespaced objects would fail on it: each run moves the
 * objects into a namespace of its own, created for real and deleted afterwards.
 */
describe.each(['k8s/base', 'k8s/overlays/example'])('%s on a real apiserver', (dir) => {
  const namespace = `kup-dryrun-${randomBytes(4).toString('hex')}`;
  const admin = (): string => process.env.KUBECONFIG ?? '';

  afterAll(async () => {
    await kubectl(['delete', 'namespace', namespace, '--ignore-not-found', '--wait=false'], { kubeconfig: admin() });
  });

  it('passes kubectl apply --dry-run=server without PodSecurity warnings', async () => {
    const objects = (await render(dir)).map((o) => structuredClone(o));
    for (const o of objects) {
      if (o.kind === 'Namespace') o.metadata.name = namespace;
      else if (o.metadata.namespace) o.metadata.namespace = namespace;
      for (const s of (o as { subjects?: { namespace?: string }[] }).subjects ?? []) if (s.namespace) s.namespace = namespace;
    }
    const ns = objects.filter((o) => o.kind === 'Namespace');
    expect(ns).toHaveLength(1);
    const created = await applyObjects(ns, admin());
    expect(created.code, created.stderr).toBe(0);

    const rest = objects.filter((o) => o.kind !== 'Namespace');
    const res = await applyObjects(rest, admin(), ['--dry-run=server']);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stderr).not.toMatch(/PodSecurity/);
    expect(res.stdout.trim().split('\n')).toHaveLength(rest.length);
  });
});

describe('the trainee ClusterRole ships as an optional component', () => {
  const isTraineeRole = (o: Manifest) => o.kind === 'ClusterRole' && o.metadata.name === 'read-write-all-except-resourcequotas';

  it('k8s/base and the example overlay never overwrite a cluster\'s existing read-write-all-except-resourcequotas', async () => {
    for (const dir of ['k8s/base', 'k8s/overlays/example']) expect((await render(dir)).filter(isTraineeRole), dir).toEqual([]);
  });

  it('components/trainee-clusterrole adds it, under the name TRAINEE_CLUSTER_ROLE defaults to', async () => {
    const roles = (await renderWithComponents(['trainee-clusterrole'])).filter(isTraineeRole);
    expect(roles).toHaveLength(1);
    expect(roles[0]?.metadata.name).toBe(workerEnv.shape.TRAINEE_CLUSTER_ROLE.parse(undefined));
    expect(roles[0]?.metadata.labels).toMatchObject({ 'app.kubernetes.io/part-of': 'k8s-user-provisioner' });
  });
});

describe('k8s/ sources', () => {
  it('keep the trainee role name in step with the config default', () => {
    const workerRbac = readFileSync(join(repoRoot, 'k8s/base/worker-rbac.yaml'), 'utf8');
    const fallback = workerEnv.shape.TRAINEE_CLUSTER_ROLE.parse(undefined);
    expect(workerRbac).toContain(`resourceNames: [${fallback}]`);
    expect(readFileSync(join(repoRoot, 'k8s/components/trainee-clusterrole/trainee-clusterrole.yaml'), 'utf8')).toContain(`name: ${fallback}`);
  });
});
