// A trainee attacks the shared cluster from their own playground's pods, logged in through
// OIDC with the password the worker issued, against the real apiserver: what the trainee
// policies (k8s/base/trainee-policy.yaml) refuse beyond Pod Security. A grace period that
// keeps the namespace (and the accounts) alive, inline CSI volumes, priority and runtime
// classes, extended resources. Ordinary pods must still be admitted.
import { randomBytes } from 'node:crypto';
import { CoreV1Api, NodeV1Api, SchedulingV1Api } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uniqueUsername } from '../helpers/names.js';
import { adminKubeConfig, eventually } from '../helpers/stack.js';
import { CENTURY, attempt, container, openTraineeSession, pod, type TraineeSession } from '../helpers/trainee-attack.js';

describe('a trainee\'s pods cannot turn the shared cluster against its other users', () => {
  let s: TraineeSession;
  let trainee: string;
  let policy: TraineeSession['policy'];
  let core: TraineeSession['core'];
  let apps: TraineeSession['apps'];
  let batch: TraineeSession['batch'];
  let adminCore: TraineeSession['adminCore'];
  const suffix = randomBytes(4).toString('hex');
  // Cluster objects only an admin makes: they must exist, or other admission plugins refuse
  // the pod first (an unknown priority or runtime class), and a pod needs a node to be
  // deleted gracefully.
  const node = `kup-fake-node-${suffix}`;
  const priorityClass = `kup-platform-high-${suffix}`;
  const runtimeClass = `kup-sandbox-${suffix}`;
  const admin = adminKubeConfig();

  beforeAll(async () => {
    await admin.makeApiClient(SchedulingV1Api).createPriorityClass({ body: { metadata: { name: priorityClass }, value: 1_000_000_000 } });
    await admin.makeApiClient(NodeV1Api).createRuntimeClass({ body: { metadata: { name: runtimeClass }, handler: 'runsc' } });
    s = await openTraineeSession(uniqueUsername('t-limp'));
    ({ trainee, policy, core, apps, batch, adminCore } = s);
    await adminCore.createNode({ body: { metadata: { name: node } } });
  }, 180_000);

  afterAll(async () => {
    await s?.close();
    await admin.makeApiClient(CoreV1Api).deleteNode({ name: node }).catch(() => undefined);
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
});
