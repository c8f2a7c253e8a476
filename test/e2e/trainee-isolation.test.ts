// A trainee attacks the platform from their own playground, logged in through OIDC with the
// password the worker issued, against the real apiserver (run with --allow-privileged=true,
// as kubeadm and k3s do): Pod Security admission, the trainee role and the shipped trainee
// admission policy (k8s/base/trainee-policy.yaml) must each refuse what would reach the
// node, other namespaces or other hosts; ordinary work must still be admitted.
import {
  AppsV1Api, BatchV1Api, CoreV1Api, NetworkingV1Api, PatchStrategy, setHeaderOptions, type V1Ingress, type V1PodSpec, type V1Service,
} from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emailOf, uniqueUsername } from '../helpers/names.js';
import { kubeConfigForToken, oidcLogin } from '../helpers/oidc.js';
import { adminKubeConfig, ensureTraineeClusterRole, eventually, getNamespace } from '../helpers/stack.js';
import { TRAINEE_DOMAIN as DOMAIN, attempt, container, pod } from '../helpers/trainee-attack.js';
import { applyTraineePolicy, type AppliedTraineePolicy } from '../helpers/trainee-policy.js';
import { testWorker, waitForJob, type TestWorker } from '../helpers/worker.js';

const service = (name: string, spec: V1Service['spec'] = {}): V1Service => ({
  metadata: { name },
  spec: { selector: { app: 'web' }, ports: [{ port: 80 }], ...spec },
});
const ingress = (name: string, hosts: (string | undefined)[], extra: Partial<V1Ingress> = {}): V1Ingress => ({
  ...extra,
  metadata: { ...extra.metadata, name },
  spec: {
    rules: hosts.map((host) => ({
      ...(host ? { host } : {}),
      http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'web', port: { number: 80 } } } }] },
    })),
    ...extra.spec,
  },
});

describe('a trainee cannot leave their playground', () => {
  let w: TestWorker;
  let policy: AppliedTraineePolicy;
  let core: CoreV1Api;
  let net: NetworkingV1Api;
  let apps: AppsV1Api;
  let batch: BatchV1Api;
  const trainee = uniqueUsername('t-iso');
  const adminCore = adminKubeConfig().makeApiClient(CoreV1Api);

  beforeAll(async () => {
    await ensureTraineeClusterRole();
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
    // Pods need the namespace's default ServiceAccount and a quota whose usage the
    // controller has counted; before that the apiserver refuses every pod for other reasons.
    await eventually('default ServiceAccount and counted quota', async () => {
      const sa = await adminCore.readNamespacedServiceAccount({ name: 'default', namespace: trainee }).catch(() => undefined);
      const quota = await adminCore.readNamespacedResourceQuota({ name: 'resource-limits', namespace: trainee });
      return sa && quota.status?.hard ? true : undefined;
    }, 60_000);
    // Admission policies load asynchronously, and read the namespace from a cache: wait
    // until this one refuses, and sees the namespace's domain (dry runs change nothing).
    await eventually('trainee policy in effect', async () => {
      const res = await attempt(() =>
        core.createNamespacedService({ namespace: trainee, body: service('probe', { externalIPs: ['203.0.113.9'] }), dryRun: 'All' }));
      const own = await attempt(() => net.createNamespacedIngress({ namespace: trainee, body: ingress('probe', [`${trainee}.${DOMAIN}`]), dryRun: 'All' }));
      return res.status === 403 && res.message.includes(policy.name) && own.status === 201 ? true : undefined;
    }, 30_000);
  }, 180_000);

  afterAll(async () => {
    await policy?.remove();
    const job = await w?.addDelete({ usernames: [trainee] }).catch(() => undefined);
    if (job?.id) await waitForJob(w.queue, job.id, 150_000).catch(() => undefined);
    await w?.close();
  });

  it('the namespace enforces Pod Security baseline, and warns and audits at restricted', async () => {
    expect((await getNamespace(trainee))?.metadata?.labels).toMatchObject({
      'pod-security.kubernetes.io/enforce': 'baseline',
      'pod-security.kubernetes.io/warn': 'restricted',
      'pod-security.kubernetes.io/audit': 'restricted',
    });
  });

  it.each([
    ['a privileged container', pod('priv', {}, { securityContext: { privileged: true } })],
    ['a hostPath volume of /', pod('hostpath', { volumes: [{ name: 'root', hostPath: { path: '/' } }] }, { volumeMounts: [{ name: 'root', mountPath: '/host' }] })],
    ['the host network', pod('hostnet', { hostNetwork: true })],
    ['the host PID namespace', pod('hostpid', { hostPID: true })],
    ['an added SYS_ADMIN capability', pod('sysadmin', {}, { securityContext: { capabilities: { add: ['SYS_ADMIN'] } } })],
  ])('refuses a pod with %s (Pod Security admission)', async (_what, body) => {
    const res = await attempt(() => core.createNamespacedPod({ namespace: trainee, body }));
    expect(res.status, res.message).toBe(403);
    expect(res.message).toContain('violates PodSecurity "baseline:latest"');
  });

  // What Pod Security baseline lets through but the trainee policy refuses: volumes the node
  // mounts itself, placement around the scheduler and the taints, the system priority classes.
  const placements: [string, Partial<V1PodSpec>, string][] = [
    ['an nfs volume', { volumes: [{ name: 'n', nfs: { server: '10.0.0.2', path: '/exports' } }] }, 'volumes in playgrounds may only be'],
    ['an iscsi volume', { volumes: [{ name: 'i', iscsi: { targetPortal: '10.0.0.3:3260', iqn: 'iqn.2001-04.com.example:t', lun: 0 } }] }, 'volumes in playgrounds may only be'],
    ['a gitRepo volume', { volumes: [{ name: 'g', gitRepo: { repository: 'https://example.com/r.git' } }] }, 'volumes in playgrounds may only be'],
    ['a nodeName', { nodeName: 'control-plane-1' }, 'may not set nodeName'],
    ['a toleration of every taint', { tolerations: [{ operator: 'Exists' }] }, 'may only tolerate the node conditions'],
    ['a toleration of the control plane', { tolerations: [{ key: 'node-role.kubernetes.io/control-plane', operator: 'Exists', effect: 'NoSchedule' }] }, 'may only tolerate the node conditions'],
    ['the system-node-critical priority class', { priorityClassName: 'system-node-critical' }, 'may not set priorityClassName'],
  ];

  it.each(placements)('refuses a pod with %s (trainee policy)', async (what, spec, reason) => {
    const res = await attempt(() => core.createNamespacedPod({ namespace: trainee, body: pod(`p-${what.replace(/\W+/g, '-').toLowerCase()}`.slice(0, 60), spec) }));
    expect(res.status, res.message).toBe(403);
    expect(res.message).toContain(policy.name);
    expect(res.message).toContain(reason);
  });

  it.each(placements)('refuses a Deployment, a CronJob and a PodTemplate whose pods have %s (their controllers are not checked)', async (what, spec, reason) => {
    const name = `w-${what.replace(/\W+/g, '-').toLowerCase()}`.slice(0, 50);
    const template = { metadata: { labels: { app: name } }, spec: { containers: [container], ...spec } };
    const tries = [
      await attempt(() => apps.createNamespacedDeployment({ namespace: trainee, body: { metadata: { name }, spec: { selector: { matchLabels: { app: name } }, template } } })),
      await attempt(() => batch.createNamespacedCronJob({
        namespace: trainee,
        body: { metadata: { name }, spec: { schedule: '0 0 1 1 *', jobTemplate: { spec: { template: { ...template, spec: { ...template.spec, restartPolicy: 'Never' } } } } } },
      })),
      await attempt(() => core.createNamespacedPodTemplate({ namespace: trainee, body: { metadata: { name }, template } })),
    ];
    for (const res of tries) {
      expect(res.status, res.message).toBe(403);
      expect(res.message).toContain(reason);
    }
  });

  it('admits a Deployment with the volumes a playground needs, and the node-condition tolerations', async () => {
    const spec: V1PodSpec = {
      containers: [container],
      volumes: [{ name: 'scratch', emptyDir: {} }, { name: 'conf', configMap: { name: 'web' } }, { name: 'token', projected: { sources: [{ serviceAccountToken: { path: 't' } }] } }],
      tolerations: [{ key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 60 }],
    };
    const res = await attempt(() =>
      apps.createNamespacedDeployment({ namespace: trainee, body: { metadata: { name: 'ok-web' }, spec: { replicas: 0, selector: { matchLabels: { app: 'ok-web' } }, template: { metadata: { labels: { app: 'ok-web' } }, spec } } } }));
    expect(res.status, res.message).toBe(201);
  });

  it('refuses a finalizer the trainee adds, which would keep the namespace (and the accounts) from ever being deleted', async () => {
    const made = await attempt(() => core.createNamespacedConfigMap({ namespace: trainee, body: { metadata: { name: 'keep-me', finalizers: ['example.com/keep'] } } }));
    expect(made.status, made.message).toBe(403);
    expect(made.message).toContain('finalizers may not be added');
    expect((await attempt(() => core.createNamespacedConfigMap({ namespace: trainee, body: { metadata: { name: 'plain-cm' } } }))).status).toBe(201);
    const added = await attempt(() =>
      core.patchNamespacedConfigMap(
        { name: 'plain-cm', namespace: trainee, body: [{ op: 'add', path: '/metadata/finalizers', value: ['example.com/keep'] }] },
        setHeaderOptions('Content-Type', PatchStrategy.JsonPatch),
      ));
    expect(added.status, added.message).toBe(403);
    expect(added.message).toContain('finalizers may not be added');
  });

  it('cannot fill etcd with ConfigMaps: the quota stops them at 100 per playground', async () => {
    const blob = 'x'.repeat(64 * 1024);
    let refused: { status: number; message: string } | undefined;
    let made = 0;
    for (let i = 0; i < 150 && !refused; i++) {
      const res = await attempt(() => core.createNamespacedConfigMap({ namespace: trainee, body: { metadata: { name: `flood-${i}` }, data: { blob } } }));
      if (res.status === 201) made++;
      else refused = res;
    }
    expect(refused?.status, refused?.message).toBe(403);
    expect(refused?.message).toContain('exceeded quota');
    expect(refused?.message).toContain('count/configmaps');
    expect(made).toBeLessThanOrEqual(100);
    await adminCore.deleteCollectionNamespacedConfigMap({ namespace: trainee });
  });

  it('admits a plain pod without securityContext or resources; the LimitRange fills them in', async () => {
    const res = await attempt(() => core.createNamespacedPod({ namespace: trainee, body: pod('plain') }));
    expect(res.status, res.message).toBe(201);
    const created = await adminCore.readNamespacedPod({ name: 'plain', namespace: trainee });
    expect(created.spec?.containers[0]?.resources).toMatchObject({
      limits: { cpu: '100m', memory: '256Mi', 'ephemeral-storage': '256Mi' },
      requests: { cpu: '10m', memory: '64Mi', 'ephemeral-storage': '64Mi' },
    });
  });

  it('cannot take a node\'s disk: a pod asking for more ephemeral storage than the quota is refused', async () => {
    const res = await attempt(() =>
      core.createNamespacedPod({ namespace: trainee, body: pod('disk-hog', {}, { resources: { limits: { 'ephemeral-storage': '100Gi' }, requests: { 'ephemeral-storage': '1Gi' } } }) }));
    expect(res.status, res.message).toBe(403);
    expect(res.message).toContain('exceeded quota');
    expect(res.message).toContain('limits.ephemeral-storage');
  });

  it('may read Endpoints but not write them, nor use the services proxy (CVE-2021-25740)', async () => {
    const write = await attempt(() =>
      core.createNamespacedEndpoints({
        namespace: trainee,
        body: { metadata: { name: 'web' }, subsets: [{ addresses: [{ ip: '10.0.0.1' }], ports: [{ port: 443 }] }] },
      }));
    expect(write.status, write.message).toBe(403);
    expect(write.message).toContain('cannot create resource "endpoints"');
    expect((await attempt(() => core.listNamespacedEndpoints({ namespace: trainee }))).status).toBe(201);
    const proxy = await attempt(() => core.connectGetNamespacedServiceProxy({ name: 'web:80', namespace: trainee }));
    expect(proxy.status, proxy.message).toBe(403);
    expect(proxy.message).toContain('services/proxy');
  });

  it.each([
    ['externalIPs', { externalIPs: ['203.0.113.10'] }, 'externalIPs'],
    ['type NodePort', { type: 'NodePort' }, 'Service type NodePort is not allowed'],
    ['type LoadBalancer', { type: 'LoadBalancer' }, 'Service type LoadBalancer is not allowed'],
    ['type ExternalName', { type: 'ExternalName', externalName: 'kubernetes.default.svc', selector: undefined }, 'Service type ExternalName is not allowed'],
  ] as const)('refuses a Service with %s (trainee policy)', async (_what, spec, reason) => {
    const res = await attempt(() => core.createNamespacedService({ namespace: trainee, body: service(`svc-${_what.replace(/\W+/g, '-').toLowerCase()}`, spec as V1Service['spec']) }));
    expect(res.status, res.message).toBe(403);
    expect(res.message).toContain(policy.name);
    expect(res.message).toContain(reason);
  });

  it('admits a ClusterIP Service; the quota alone still stops a NodePort from a cluster admin', async () => {
    expect((await attempt(() => core.createNamespacedService({ namespace: trainee, body: service('web') }))).status).toBe(201);
    // The admin is not matched by the policy: services.nodeports=0 in the quota refuses it.
    const res = await attempt(() => adminCore.createNamespacedService({ namespace: trainee, body: service('admin-np', { type: 'NodePort' }) }));
    expect(res.status, res.message).toBe(403);
    expect(res.message).toContain('exceeded quota');
  });

  it.each([
    ['the provisioner host', ['provisioner.example.com'], {}],
    ['another trainee', [`someone-else.${DOMAIN}`], {}],
    ['a look-alike of their own', [`evil-${trainee}.${DOMAIN}`], {}],
    ['the whole trainee domain', [`*.${DOMAIN}`], {}],
    ['a rule without a host', [undefined], {}],
    ['one good and one foreign rule', [`${trainee}.${DOMAIN}`, 'provisioner.example.com'], {}],
    ['a TLS section for another host', [`${trainee}.${DOMAIN}`], { spec: { tls: [{ hosts: ['provisioner.example.com'], secretName: 'x' }] } }],
    ['a defaultBackend', [`${trainee}.${DOMAIN}`], { spec: { defaultBackend: { service: { name: 'web', port: { number: 80 } } } } }],
    ['a snippet annotation', [`${trainee}.${DOMAIN}`], { metadata: { annotations: { 'nginx.ingress.kubernetes.io/server-snippet': 'location /x {}' } } }],
    ['a server alias of another trainee and the whole domain', [`${trainee}.${DOMAIN}`], { metadata: { annotations: { 'nginx.ingress.kubernetes.io/server-alias': `bob.${DOMAIN}, *.${DOMAIN}` } } }],
    ['an auth-url into the controller', [`${trainee}.${DOMAIN}`], { metadata: { annotations: { 'nginx.ingress.kubernetes.io/auth-url': 'http://x/#;}}}\n' } } }],
    ['a mirror target', [`${trainee}.${DOMAIN}`], { metadata: { annotations: { 'nginx.ingress.kubernetes.io/mirror-target': 'http://10.0.0.5' } } }],
  ] as const)('refuses an Ingress for %s (trainee policy)', async (_what, hosts, extra) => {
    const body = ingress(`ing-${_what.replace(/\W+/g, '-').toLowerCase()}`, [...hosts], extra as Partial<V1Ingress>);
    const res = await attempt(() => net.createNamespacedIngress({ namespace: trainee, body }));
    expect(res.status, res.message).toBe(403);
    expect(res.message).toContain(policy.name);
  });

  it('admits Ingresses for their own host and names under it', async () => {
    for (const [name, host] of [['own', `${trainee}.${DOMAIN}`], ['sub', `web.${trainee}.${DOMAIN}`], ['wild', `*.${trainee}.${DOMAIN}`]] as const) {
      const res = await attempt(() => net.createNamespacedIngress({ namespace: trainee, body: ingress(name, [host]) }));
      expect(res.status, `${host}: ${res.message}`).toBe(201);
    }
    // The everyday ingress-nginx annotations stay allowed.
    const annotated = ingress('rewrite', [`${trainee}.${DOMAIN}`], {
      metadata: { annotations: { 'nginx.ingress.kubernetes.io/rewrite-target': '/', 'nginx.ingress.kubernetes.io/ssl-redirect': 'false', 'example.com/owner': 'me' } },
    });
    const res = await attempt(() => net.createNamespacedIngress({ namespace: trainee, body: annotated }));
    expect(res.status, res.message).toBe(201);
  });

  it('refuses every Ingress in a namespace that names no trainee domain', async () => {
    await adminCore.patchNamespace(
      { name: trainee, body: [{ op: 'remove', path: '/metadata/annotations/k8s-user-provisioner~1ingress-domain' }] },
      setHeaderOptions('Content-Type', PatchStrategy.JsonPatch),
    );
    // The policy reads the namespace from a cache: poll (dry runs) until it sees the change.
    const res = await eventually('Ingress refused without a domain', async () => {
      const tried = await attempt(() => net.createNamespacedIngress({ namespace: trainee, body: ingress('nodomain', [`${trainee}.${DOMAIN}`]), dryRun: 'All' }));
      return tried.status === 201 ? undefined : tried;
    }, 30_000);
    expect(res.status, res.message).toBe(403);
    expect(res.message).toContain('no trainee domain is configured');
  });
});
