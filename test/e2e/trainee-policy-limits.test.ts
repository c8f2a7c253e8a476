// A trainee attacks the shared cluster from their own playground, logged in through OIDC with
// the password the worker issued, against the real apiserver: what the trainee policies
// (k8s/base/trainee-policy.yaml) refuse beyond the node and the network (the pods' own
// limits are in trainee-policy-pods.test.ts). PodDisruptionBudgets that block drains, claims
// on a PV of the platform's, annotations that steer external-dns, cert-manager and other
// controllers, token Secrets. Ordinary work must still be admitted.
import { PatchStrategy, setHeaderOptions, type V1Ingress, type V1PersistentVolumeClaimSpec, type V1Pod, type V1PodDisruptionBudgetSpec, type V1Service } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uniqueUsername } from '../helpers/names.js';
import { TRAINEE_DOMAIN as DOMAIN, attempt, claim, container, openTraineeSession, pod, slug, type TraineeSession } from '../helpers/trainee-attack.js';

describe('a trainee cannot turn the shared cluster against its other users', () => {
  let s: TraineeSession;
  let trainee: string;
  let policy: TraineeSession['policy'];
  let core: TraineeSession['core'];
  let net: TraineeSession['net'];
  let apps: TraineeSession['apps'];
  let pdbs: TraineeSession['pdbs'];
  let adminCore: TraineeSession['adminCore'];

  beforeAll(async () => {
    s = await openTraineeSession(uniqueUsername('t-lim'));
    ({ trainee, policy, core, net, apps, pdbs, adminCore } = s);
  }, 180_000);
  afterAll(async () => s?.close());

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
