// A trainee attacks the shared cluster from their own playground, logged in through OIDC with
// the password the worker issued, against the real apiserver: what the trainee policies
// (k8s/base/trainee-policy.yaml) refuse beyond the node and the network. A grace period that
// keeps the namespace alive, PodDisruptionBudgets that block drains, claims on a PV of the
// platform's, inline CSI volumes, annotations that steer external-dns, cert-manager and other
// controllers, priority and runtime classes, extended resources, token Secrets. Ordinary
// work must still be admitted.
import { randomBytes } from 'node:crypto';
import {
  AppsV1Api, BatchV1Api, CoreV1Api, NetworkingV1Api, NodeV1Api, PatchStrategy, PolicyV1Api, SchedulingV1Api, setHeaderOptions,
  type V1Ingress, type V1PersistentVolumeClaimSpec, type V1Pod, type V1PodDisruptionBudgetSpec, type V1PodSpec, type V1Service,
} from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emailOf, uniqueUsername } from '../helpers/names.js';
import { kubeConfigForToken, oidcLogin } from '../helpers/oidc.js';
import { adminKubeConfig, ensureTraineeClusterRole, eventually } from '../helpers/stack.js';
import { applyTraineePolicy, type AppliedTraineePolicy } from '../helpers/trainee-policy.js';
import { testWorker, waitForJob, type TestWorker } from '../helpers/worker.js';

const DOMAIN = 'apps.kup.test';
const CENTURY = 3_153_600_000; // 100 years, in seconds

/** The HTTP status and message of a call: 201 when it went through. */
async function attempt(call: () => Promise<unknown>): Promise<{ status: number; message: string }> {
  try {
    await call();
    return { status: 201, message: '' };
  } catch (error) {
    const { code, body } = error as { code?: number; body?: unknown };
    if (typeof code !== 'number') throw error;
    const status = (typeof body === 'string' ? JSON.parse(body) : body) as { message?: string } | undefined;
    return { status: code, message: status?.message ?? String(body) };
  }
}

const container = { name: 'c', image: 'nginx:1.27' };
const pod = (name: string, spec: Partial<V1PodSpec> = {}, c: object = {}): V1Pod => ({
  metadata: { name },
  spec: { containers: [{ ...container, ...c }], ...spec },
});
const slug = (what: string): string => what.replace(/\W+/g, '-').toLowerCase().replace(/^-|-$/g, '').slice(0, 50);
const claim = (extra: Partial<V1PersistentVolumeClaimSpec> = {}): V1PersistentVolumeClaimSpec => ({
  accessModes: ['ReadWriteOnce'],
  resources: { requests: { storage: '1Gi' } },
  ...extra,
});

describe('a trainee cannot turn the shared cluster against its other users', () => {
  let w: TestWorker;
  let policy: AppliedTraineePolicy;
  let core: CoreV1Api;
  let net: NetworkingV1Api;
  let apps: AppsV1Api;
  let batch: BatchV1Api;
  let pdbs: PolicyV1Api;
  const trainee = uniqueUsername('t-lim');
  const suffix = randomBytes(4).toString('hex');
  // Cluster objects only an admin makes: they must exist, or other admission plugins refuse
  // the pod first (an unknown priority or runtime class), and a pod needs a node to be
  // deleted gracefully.
  const node = `kup-fake-node-${suffix}`;
  const priorityClass = `kup-platform-high-${suffix}`;
  const runtimeClass = `kup-sandbox-${suffix}`;
  const admin = adminKubeConfig();
  const adminCore = admin.makeApiClient(CoreV1Api);

  beforeAll(async () => {
    await ensureTraineeClusterRole();
    await admin.makeApiClient(SchedulingV1Api).createPriorityClass({ body: { metadata: { name: priorityClass }, value: 1_000_000_000 } });
    await admin.makeApiClient(NodeV1Api).createRuntimeClass({ body: { metadata: { name: runtimeClass }, handler: 'runsc' } });
    await adminCore.createNode({ body: { metadata: { name: node } } });
    w = await testWorker({ overrides: { TRAINEE_INGRESS_DOMAIN: DOMAIN } });
    policy = await applyTraineePolicy([trainee]);
    const job = await w.addCreate({ username: trainee, email: emailOf(trainee) });
    const { state, job: done } = await waitForJob(w.queue, job.id as string);
    expect(state, done.failedReason).toBe('completed');
    const { idToken } = await oidcLogin(trainee, (await w.passwordOf(done)) as string);
    const kc = kubeConfigForToken(idToken);
    core = kc.makeApiClient(CoreV1Api);
    net = kc.makeApiClient(NetworkingV1Api);
    apps = kc.makeApiClient(AppsV1Api);
    batch = kc.makeApiClient(BatchV1Api);
    pdbs = kc.makeApiClient(PolicyV1Api);
    // Pods need the default ServiceAccount, and quota admission a quota the controller counted.
    await eventually('default ServiceAccount and counted quota', async () => {
      const sa = await adminCore.readNamespacedServiceAccount({ name: 'default', namespace: trainee }).catch(() => undefined);
      const quota = await adminCore.readNamespacedResourceQuota({ name: 'resource-limits', namespace: trainee });
      return sa && quota.status?.hard ? true : undefined;
    }, 60_000);
    // Admission policies load asynchronously: wait until this one refuses (dry runs change nothing).
    await eventually('trainee policy in effect', async () => {
      const res = await attempt(() =>
        core.createNamespacedPod({ namespace: trainee, body: pod('probe', { terminationGracePeriodSeconds: CENTURY }), dryRun: 'All' }));
      return res.status === 403 && res.message.includes(policy.name) ? true : undefined;
    }, 30_000);
  }, 180_000);

  afterAll(async () => {
    // No kubelet finishes a graceful delete and no controller removes PVC protection on the
    // stack: do both as admin, or the namespace would never go.
    await adminCore.deleteCollectionNamespacedPod({ namespace: trainee, gracePeriodSeconds: 0 }).catch(() => undefined);
    const claims = await adminCore.listNamespacedPersistentVolumeClaim({ namespace: trainee }).catch(() => undefined);
    for (const c of claims?.items ?? []) {
      await adminCore.patchNamespacedPersistentVolumeClaim(
        { name: c.metadata?.name as string, namespace: trainee, body: { metadata: { finalizers: null } } },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      ).catch(() => undefined);
    }
    await policy?.remove();
    const job = await w?.addDelete({ usernames: [trainee] }).catch(() => undefined);
    if (job?.id) await waitForJob(w.queue, job.id, 150_000).catch(() => undefined);
    await w?.close();
    await adminCore.deleteNode({ name: node }).catch(() => undefined);
    await admin.makeApiClient(SchedulingV1Api).deletePriorityClass({ name: priorityClass }).catch(() => undefined);
    await admin.makeApiClient(NodeV1Api).deleteRuntimeClass({ name: runtimeClass }).catch(() => undefined);
  });

  describe('termination grace: a pod that takes a century to stop keeps the namespace (and the accounts) alive', () => {
    it('refuses a pod, a Deployment and a CronJob whose pods ask for more than 300 s', async () => {
      const template = { metadata: { labels: { app: 'linger' } }, spec: { containers: [container], terminationGracePeriodSeconds: CENTURY } };
      const tries = [
        await attempt(() => core.createNamespacedPod({ namespace: trainee, body: pod('linger-pod', { terminationGracePeriodSeconds: CENTURY }) })),
        await attempt(() => apps.createNamespacedDeployment({
          namespace: trainee,
          body: { metadata: { name: 'linger' }, spec: { selector: { matchLabels: { app: 'linger' } }, template } },
        })),
        await attempt(() => batch.createNamespacedCronJob({
          namespace: trainee,
          body: {
            metadata: { name: 'linger' },
            spec: { schedule: '0 0 1 1 *', jobTemplate: { spec: { template: { ...template, spec: { ...template.spec, restartPolicy: 'Never' } } } } },
          },
        })),
      ];
      for (const res of tries) {
        expect(res.status, res.message).toBe(403);
        expect(res.message).toContain(policy.name);
        expect(res.message).toContain(`terminationGracePeriodSeconds may be at most 300 in playgrounds (this one asks for ${CENTURY})`);
      }
      const fine = await attempt(() => core.createNamespacedPod({ namespace: trainee, body: pod('grace-300', { terminationGracePeriodSeconds: 300 }), dryRun: 'All' }));
      expect(fine.status, fine.message).toBe(201);
    });

    it('refuses a delete or an eviction asking for more than 300 s, and admits a delete with 10 s', async () => {
      expect((await attempt(() => core.createNamespacedPod({ namespace: trainee, body: pod('linger') }))).status).toBe(201);
      // A pod on no node is deleted at once, grace or not: place it, as the scheduler would.
      await adminCore.createNamespacedPodBinding({
        name: 'linger',
        namespace: trainee,
        body: { metadata: { name: 'linger' }, target: { apiVersion: 'v1', kind: 'Node', name: node } },
      });
      const long = await eventually('delete policy in effect', async () => {
        const res = await attempt(() => core.deleteNamespacedPod({ name: 'linger', namespace: trainee, gracePeriodSeconds: CENTURY, dryRun: 'All' }));
        return res.status === 403 ? res : undefined;
      }, 30_000);
      expect(long.message).toContain(policy.deletesName);
      expect(long.message).toContain(`pods in playgrounds may be deleted with a grace period of at most 300 seconds (asked: ${CENTURY})`);
      const real = await attempt(() => core.deleteNamespacedPod({ name: 'linger', namespace: trainee, gracePeriodSeconds: CENTURY }));
      expect(real.status, real.message).toBe(403);

      const eviction = await attempt(() => core.createNamespacedPodEviction({
        name: 'linger',
        namespace: trainee,
        body: { metadata: { name: 'linger', namespace: trainee }, deleteOptions: { gracePeriodSeconds: CENTURY } },
      }));
      expect(eviction.status, eviction.message).toBe(403);
      expect(eviction.message).toContain(policy.deletesName);
      expect(eviction.message).toContain(`pods in playgrounds may be evicted with a grace period of at most 300 seconds (asked: ${CENTURY})`);
      expect((await adminCore.readNamespacedPod({ name: 'linger', namespace: trainee })).metadata?.deletionTimestamp).toBeUndefined();

      const short = await attempt(() => core.deleteNamespacedPod({ name: 'linger', namespace: trainee, gracePeriodSeconds: 10 }));
      expect(short.status, short.message).toBe(201);
      expect((await adminCore.readNamespacedPod({ name: 'linger', namespace: trainee })).metadata?.deletionGracePeriodSeconds).toBe(10);
    });
  });

  describe('PodDisruptionBudgets: none that can hold a node drain', () => {
    const budget = (name: string, spec: V1PodDisruptionBudgetSpec) => ({ metadata: { name }, spec: { selector: { matchLabels: { app: 'web' } }, ...spec } });

    it.each([
      ['maxUnavailable 0', { maxUnavailable: 0, unhealthyPodEvictionPolicy: 'AlwaysAllow' }],
      ['maxUnavailable 0%', { maxUnavailable: '0%', unhealthyPodEvictionPolicy: 'AlwaysAllow' }],
      ['minAvailable 100%', { minAvailable: '100%', unhealthyPodEvictionPolicy: 'AlwaysAllow' }],
      ['minAvailable 1', { minAvailable: 1, unhealthyPodEvictionPolicy: 'AlwaysAllow' }],
      ['maxUnavailable 1 without unhealthyPodEvictionPolicy', { maxUnavailable: 1 }],
      ['maxUnavailable 1 and IfHealthyBudget', { maxUnavailable: 1, unhealthyPodEvictionPolicy: 'IfHealthyBudget' }],
    ] as const)('refuses a PDB with %s (trainee policy)', async (what, spec) => {
      const res = await attempt(() => pdbs.createNamespacedPodDisruptionBudget({ namespace: trainee, body: budget(`pdb-${slug(what)}`, spec) }));
      expect(res.status, res.message).toBe(403);
      expect(res.message).toContain(policy.name);
      expect(res.message).toContain('PodDisruptionBudgets in playgrounds must set maxUnavailable');
      expect(res.message).toContain('unhealthyPodEvictionPolicy: AlwaysAllow');
    });

    it('admits one with maxUnavailable 1 (or a percentage) and AlwaysAllow; the quota refuses a second one', async () => {
      const pct = await attempt(() =>
        pdbs.createNamespacedPodDisruptionBudget({ namespace: trainee, body: budget('pct', { maxUnavailable: '10%', unhealthyPodEvictionPolicy: 'AlwaysAllow' }), dryRun: 'All' }));
      expect(pct.status, pct.message).toBe(201);
      const first = await attempt(() =>
        pdbs.createNamespacedPodDisruptionBudget({ namespace: trainee, body: budget('web', { maxUnavailable: 1, unhealthyPodEvictionPolicy: 'AlwaysAllow' }) }));
      expect(first.status, first.message).toBe(201);
      const second = await attempt(() =>
        pdbs.createNamespacedPodDisruptionBudget({ namespace: trainee, body: budget('web-2', { maxUnavailable: 1, unhealthyPodEvictionPolicy: 'AlwaysAllow' }) }));
      expect(second.status, second.message).toBe(403);
      expect(second.message).toContain('exceeded quota');
      expect(second.message).toContain('count/poddisruptionbudgets.policy');
    });
  });

  describe('claims: no hand-picked PersistentVolume', () => {
    const claimRefused = 'claims in playgrounds may not';

    it.each([
      ['a volumeName', claim({ volumeName: 'platform-hostpath' }), 'name a PersistentVolume (volumeName)'],
      ['a selector', claim({ selector: { matchLabels: { team: 'platform' } } }), 'select a PersistentVolume (selector)'],
    ] as const)('refuses a PVC with %s', async (what, spec, reason) => {
      const res = await attempt(() => core.createNamespacedPersistentVolumeClaim({ namespace: trainee, body: { metadata: { name: `pvc-${slug(what)}` }, spec } }));
      expect(res.status, res.message).toBe(403);
      expect(res.message).toContain(policy.name);
      expect(res.message).toContain(`${claimRefused} ${reason}`);
    });

    it('refuses a volumeName in a StatefulSet claim template and in an ephemeral volume', async () => {
      const sts = await attempt(() => apps.createNamespacedStatefulSet({
        namespace: trainee,
        body: {
          metadata: { name: 'db' },
          spec: {
            serviceName: 'db',
            selector: { matchLabels: { app: 'db' } },
            template: { metadata: { labels: { app: 'db' } }, spec: { containers: [container] } },
            volumeClaimTemplates: [{ metadata: { name: 'data' }, spec: claim({ volumeName: 'platform-hostpath' }) }],
          },
        },
      }));
      expect(sts.status, sts.message).toBe(403);
      expect(sts.message).toContain(`${claimRefused} name a PersistentVolume (volumeName)`);
      const ephemeral = (spec: V1PersistentVolumeClaimSpec): V1Pod =>
        pod('scratch', { volumes: [{ name: 'e', ephemeral: { volumeClaimTemplate: { spec } } }] }, { volumeMounts: [{ name: 'e', mountPath: '/data' }] });
      const eph = await attempt(() => core.createNamespacedPod({ namespace: trainee, body: ephemeral(claim({ volumeName: 'platform-hostpath' })) }));
      expect(eph.status, eph.message).toBe(403);
      expect(eph.message).toContain(`${claimRefused} name a PersistentVolume (volumeName)`);
      const plain = await attempt(() => core.createNamespacedPod({ namespace: trainee, body: ephemeral(claim()), dryRun: 'All' }));
      expect(plain.status, plain.message).toBe(201);
    });

    it('admits a plain PVC, refuses naming a volume on it later, and keeps the volumeName the binder wrote', async () => {
      expect((await attempt(() => core.createNamespacedPersistentVolumeClaim({ namespace: trainee, body: { metadata: { name: 'data' }, spec: claim() } }))).status).toBe(201);
      // An unbound claim may still get a volumeName: the trainee's update is the attack.
      const named = await attempt(() => core.patchNamespacedPersistentVolumeClaim(
        { name: 'data', namespace: trainee, body: { spec: { volumeName: 'platform-hostpath' } } },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      ));
      expect(named.status, named.message).toBe(403);
      expect(named.message).toContain(`${claimRefused} name a PersistentVolume (volumeName)`);
      // The binder (the platform, not matched) names the volume; the trainee's later edits keep it.
      await adminCore.patchNamespacedPersistentVolumeClaim(
        { name: 'data', namespace: trainee, body: { spec: { volumeName: 'pv-from-the-binder' } } },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      );
      const labelled = await attempt(() => core.patchNamespacedPersistentVolumeClaim(
        { name: 'data', namespace: trainee, body: { metadata: { labels: { app: 'web' } } } },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      ));
      expect(labelled.status, labelled.message).toBe(201);
    });
  });

  it('refuses an inline CSI volume (the kubelet mounts whatever the driver does: NFS shares, certificates for any name)', async () => {
    for (const [name, csi] of [
      ['nfs', { driver: 'nfs.csi.k8s.io', volumeAttributes: { server: '10.0.0.2', share: '/exports' } }],
      ['cert', { driver: 'csi.cert-manager.io', readOnly: true, volumeAttributes: { 'csi.cert-manager.io/issuer-name': 'letsencrypt', 'csi.cert-manager.io/issuer-kind': 'ClusterIssuer', 'csi.cert-manager.io/dns-names': 'provisioner.example.com' } }],
    ] as const) {
      const res = await attempt(() =>
        core.createNamespacedPod({ namespace: trainee, body: pod(`csi-${name}`, { volumes: [{ name: 'v', csi }] }, { volumeMounts: [{ name: 'v', mountPath: '/v' }] }) }));
      expect(res.status, res.message).toBe(403);
      expect(res.message).toContain(policy.name);
      expect(res.message).toContain('volumes in playgrounds may only be configMap, downwardAPI, emptyDir, ephemeral, persistentVolumeClaim, projected or secret');
    }
  });

  describe('annotations other cluster tools act on', () => {
    const host = (): string => `${trainee}.${DOMAIN}`;
    const ingress = (name: string, annotations: Record<string, string>): V1Ingress => ({
      metadata: { name, annotations },
      spec: { rules: [{ host: host(), http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'web', port: { number: 80 } } } }] } }] },
    });
    const service = (name: string, annotations: Record<string, string>, spec: V1Service['spec'] = {}): V1Service => ({
      metadata: { name, annotations },
      spec: { selector: { app: 'web' }, ports: [{ port: 80 }], ...spec },
    });

    it.each([
      ['external-dns.alpha.kubernetes.io/hostname', 'provisioner.example.com,login.example.com'],
      ['external-dns.alpha.kubernetes.io/target', '203.0.113.66'],
      ['cert-manager.io/cluster-issuer', 'letsencrypt-prod'],
      ['cert-manager.io/common-name', 'provisioner.example.com'],
      ['acme.cert-manager.io/http01-edit-in-place', 'true'],
      ['traefik.ingress.kubernetes.io/router.middlewares', 'kube-system-admin@kubernetescrd'],
      ['traefik.io/router.entrypoints', 'websecure'],
      ['haproxy.org/path-rewrite', '/admin'],
      ['ingress.kubernetes.io/auth-url', 'http://10.0.0.5'],
      ['alb.ingress.kubernetes.io/scheme', 'internet-facing'],
    ])('refuses an Ingress for their own host annotated %s', async (key, value) => {
      const res = await attempt(() => net.createNamespacedIngress({ namespace: trainee, body: ingress(`ann-${slug(key)}`, { [key]: value }) }));
      expect(res.status, res.message).toBe(403);
      expect(res.message).toContain(policy.name);
      expect(res.message).toContain(`annotations ${key} are not allowed on playground Services and Ingresses`);
    });

    it.each([
      ['a headless Service for a platform name in DNS', { 'external-dns.alpha.kubernetes.io/hostname': 'grafana.example.com' }, { clusterIP: 'None' }],
      ['a cloud load balancer setting', { 'service.beta.kubernetes.io/aws-load-balancer-internal': 'false' }, {}],
    ] as const)('refuses %s', async (what, annotations, spec) => {
      const res = await attempt(() => core.createNamespacedService({ namespace: trainee, body: service(`svc-${slug(what)}`, { ...annotations }, { ...spec }) }));
      expect(res.status, res.message).toBe(403);
      expect(res.message).toContain(policy.name);
      expect(res.message).toContain(`annotations ${Object.keys(annotations)[0]} are not allowed`);
    });

    it("admits kubectl apply's annotation and the allowed ingress-nginx ones", async () => {
      const applied = { 'kubectl.kubernetes.io/last-applied-configuration': '{"apiVersion":"v1","kind":"Service"}' };
      const svc = await attempt(() => core.createNamespacedService({ namespace: trainee, body: service('web', applied) }));
      expect(svc.status, svc.message).toBe(201);
      const ing = await attempt(() => net.createNamespacedIngress({
        namespace: trainee,
        body: ingress('web', { ...applied, 'nginx.ingress.kubernetes.io/rewrite-target': '/', 'nginx.ingress.kubernetes.io/proxy-body-size': '8m' }),
      }));
      expect(ing.status, ing.message).toBe(201);
    });
  });

  describe('pods: no priority or runtime class, no resources the quota does not cap', () => {
    it('refuses any priority class, in a pod and in a Deployment', async () => {
      const res = await attempt(() => core.createNamespacedPod({ namespace: trainee, body: pod('high', { priorityClassName: priorityClass }) }));
      expect(res.status, res.message).toBe(403);
      expect(res.message).toContain(policy.name);
      expect(res.message).toContain(`pods in playgrounds may not set priorityClassName (${priorityClass})`);
      const deployment = await attempt(() => apps.createNamespacedDeployment({
        namespace: trainee,
        body: {
          metadata: { name: 'high' },
          spec: { selector: { matchLabels: { app: 'high' } }, template: { metadata: { labels: { app: 'high' } }, spec: { containers: [container], priorityClassName: 'anything' } } },
        },
      }));
      expect(deployment.status, deployment.message).toBe(403);
      expect(deployment.message).toContain('pods in playgrounds may not set priorityClassName (anything)');
    });

    it('refuses any runtime class', async () => {
      const res = await attempt(() => core.createNamespacedPod({ namespace: trainee, body: pod('sandboxed', { runtimeClassName: runtimeClass }) }));
      expect(res.status, res.message).toBe(403);
      expect(res.message).toContain(policy.name);
      expect(res.message).toContain(`pods in playgrounds may not set runtimeClassName (${runtimeClass})`);
    });

    it.each([
      ['eight GPUs', pod('gpu', {}, { resources: { limits: { 'nvidia.com/gpu': '8' } } })],
      ['hugepages', pod('huge', {}, { resources: { limits: { 'hugepages-2Mi': '1Gi', memory: '1Gi' } } })],
      ['a GPU in an init container', pod('gpu-init', { initContainers: [{ name: 'i', image: 'busybox', resources: { requests: { 'nvidia.com/gpu': '1' }, limits: { 'nvidia.com/gpu': '1' } } }] })],
    ] as const)('refuses a pod asking for %s', async (_what, body) => {
      const res = await attempt(() => core.createNamespacedPod({ namespace: trainee, body }));
      expect(res.status, res.message).toBe(403);
      expect(res.message).toContain(policy.name);
      expect(res.message).toContain('may only request or limit cpu, memory and ephemeral-storage');
    });

    it('admits a pod with cpu, memory and ephemeral-storage, and a plain Deployment', async () => {
      const sized = pod('sized', {}, { resources: { requests: { cpu: '10m', memory: '32Mi', 'ephemeral-storage': '32Mi' }, limits: { cpu: '50m', memory: '64Mi', 'ephemeral-storage': '64Mi' } } });
      const res = await attempt(() => core.createNamespacedPod({ namespace: trainee, body: sized, dryRun: 'All' }));
      expect(res.status, res.message).toBe(201);
      const plain = await attempt(() => apps.createNamespacedDeployment({
        namespace: trainee,
        body: { metadata: { name: 'web' }, spec: { replicas: 1, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [container] } } } },
      }));
      expect(plain.status, plain.message).toBe(201);
    });
  });

  it('refuses a legacy service-account token Secret (a token that never expires), and admits an Opaque one', async () => {
    const token = await attempt(() => core.createNamespacedSecret({
      namespace: trainee,
      body: { metadata: { name: 'forever', annotations: { 'kubernetes.io/service-account.name': 'default' } }, type: 'kubernetes.io/service-account-token' },
    }));
    expect(token.status, token.message).toBe(403);
    expect(token.message).toContain(policy.name);
    expect(token.message).toContain('Secrets of type kubernetes.io/service-account-token are not allowed in playgrounds');
    const opaque = await attempt(() => core.createNamespacedSecret({ namespace: trainee, body: { metadata: { name: 'ok' }, stringData: { a: 'b' } } }));
    expect(opaque.status, opaque.message).toBe(201);
  });
});
