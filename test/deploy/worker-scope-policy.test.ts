// The worker scope policy (k8s/base/worker-scope-policy.yaml) on the real apiserver, as the
// worker's own ServiceAccount, installed from k8s/overlays/example rendered with another
// namespace: the policy recognises the worker wherever it is installed, and the RoleBindings
// the worker may write are the trainee role for one trainee, nothing else. The attacks are
// those RBAC alone lets through (its escalation check passes for any role within the
// worker's own rights, and it never looks at subjects).
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KubernetesClusterGateway } from '@kup/adapters';
import { defaultPlaygroundSettings, namespacedManifests, namespaceManifest } from '@kup/core';
import { eventually } from '../helpers/poll.js';
import {
  kubectl, kubectlOk, type Manifest, renderExampleIn, TRAINEE_CLUSTER_ROLE, type WorkerServiceAccount, workerServiceAccountKubeconfig,
} from '../helpers/service-account-kubeconfig.js';

const admin = (): string => process.env.KUBECONFIG ?? '';
const hex = randomBytes(4).toString('hex');
const home = `kup-renamed-${hex}`;
const playground = `kup-scope-rb-${hex}`;
/** A ClusterRole within the worker's own rights: RBAC lets the worker bind it without `bind`. */
const withinWorkerRights = `kup-scope-within-${hex}`;

type Subject = { kind: string; name: string; namespace?: string; apiGroup?: string };
const user = (name: string): Subject => ({ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name });
const trainee = user(`https://issuer.example/realms/playground#${hex}`);

const roleBinding = (name: string, roleRef: { kind: string; name: string }, subjects: Subject[]): string =>
  JSON.stringify({
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'RoleBinding',
    metadata: { name, namespace: playground },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', ...roleRef },
    subjects,
  });

const exists = async (name: string): Promise<boolean> =>
  (await kubectl(['get', 'rolebinding', name, '-n', playground], { kubeconfig: admin() })).code === 0;

describe('worker scope policy: example overlay installed in another namespace', () => {
  let sa: WorkerServiceAccount;
  let rendered: Manifest[];

  beforeAll(async () => {
    // A new cluster: the example overlay with the trainee ClusterRole's component switched on.
    rendered = await renderExampleIn(home, ['trainee-clusterrole']);
    sa = await workerServiceAccountKubeconfig({ rendered });
    // The playground, made by the worker itself as it does for a trainee (Pod Security label
    // included: managed namespaces carry one).
    const namespace = {
      apiVersion: 'v1', kind: 'Namespace',
      metadata: { name: playground, labels: { 'managed-by': 'k8s-provisioner', 'pod-security.kubernetes.io/enforce': 'baseline' } },
    };
    await kubectlOk(['apply', '--server-side', '--field-manager=k8s-user-provisioner', '-f', '-'],
      { kubeconfig: sa.kubeconfig, input: JSON.stringify(namespace) });
    await kubectlOk(['create', 'clusterrole', withinWorkerRights, '--verb=deletecollection', '--resource=secrets'], { kubeconfig: admin() });
  });

  afterAll(async () => {
    await kubectl(['delete', 'namespace', playground, '--ignore-not-found', '--wait=false'], { kubeconfig: admin() });
    await kubectl(['delete', 'clusterrole', withinWorkerRights, '--ignore-not-found'], { kubeconfig: admin() });
    await sa?.cleanup();
  });

  it('runs the worker as rendered: its ServiceAccount in the new namespace, bound there', async () => {
    expect(sa.namespace).toBe(home);
    const who = JSON.parse(await kubectlOk(['auth', 'whoami', '-o', 'json'], { kubeconfig: sa.kubeconfig })) as {
      status: { userInfo: { username: string } };
    };
    expect(who.status.userInfo.username).toBe(`system:serviceaccount:${home}:worker`);
  });

  it('still confines the worker to managed namespaces there', async () => {
    const outside = await kubectl(['create', 'rolebinding', `kup-scope-${hex}`, '-n', 'kube-system',
      `--clusterrole=${TRAINEE_CLUSTER_ROLE}`, `--user=${trainee.name}`], { kubeconfig: sa.kubeconfig });
    expect(outside.code).not.toBe(0);
    expect(outside.stderr).toContain(sa.scopePolicy);
    const own = await kubectl(['delete', 'namespace', home, '--dry-run=server'], { kubeconfig: sa.kubeconfig });
    expect(own.code).not.toBe(0);
    expect(own.stderr).toContain(sa.scopePolicy);
  });

  it('admits the trainee RoleBinding: the trainee ClusterRole, one User', async () => {
    await kubectlOk(['create', '-f', '-'],
      { kubeconfig: sa.kubeconfig, input: roleBinding('trainee', { kind: 'ClusterRole', name: TRAINEE_CLUSTER_ROLE }, [trainee]) });
    expect(await exists('trainee')).toBe(true);
  });

  it.each(['issuer-sub', 'username'] as const)('admits a playground as the worker plans it (subjects in %s mode)', async (mode) => {
    const username = `kup-plan-${mode === 'username' ? 'u' : 'i'}-${hex}`;
    const cluster = new KubernetesClusterGateway({ kubeconfig: sa.kubeconfig, timeoutMs: 30_000 });
    const trainee = { username, userId: randomBytes(8).toString('hex'), email: undefined, createdAt: new Date().toISOString(), expiresAt: new Date().toISOString() };
    const settings = defaultPlaygroundSettings('https://issuer.example/realms/playground', { RBAC_SUBJECT_MODE: mode });
    try {
      for (const object of [namespaceManifest(settings, trainee), ...namespacedManifests(settings, trainee)]) await cluster.apply(object);
      const binding = JSON.parse(await kubectlOk(['get', 'rolebinding', '-n', username, '-o', 'json'], { kubeconfig: admin() })) as {
        items: { roleRef: { name: string }; subjects: Subject[] }[];
      };
      expect(binding.items.map((b) => [b.roleRef.name, b.subjects.length, b.subjects[0]?.kind])).toEqual([[TRAINEE_CLUSTER_ROLE, 1, 'User']]);
    } finally {
      await kubectl(['delete', 'namespace', username, '--ignore-not-found', '--wait=false'], { kubeconfig: admin() });
    }
  });

  it.each([
    ['to another ClusterRole within the worker\'s rights', { kind: 'ClusterRole', name: withinWorkerRights }, [trainee]],
    ['with two subjects', { kind: 'ClusterRole', name: TRAINEE_CLUSTER_ROLE }, [trainee, user(`someone-else-${hex}`)]],
    ['to a ServiceAccount', { kind: 'ClusterRole', name: TRAINEE_CLUSTER_ROLE }, [{ kind: 'ServiceAccount', name: 'default', namespace: playground }]],
    ['to a Group', { kind: 'ClusterRole', name: TRAINEE_CLUSTER_ROLE }, [{ ...user('system:authenticated'), kind: 'Group' }]],
    ['to a system: user (anonymous)', { kind: 'ClusterRole', name: TRAINEE_CLUSTER_ROLE }, [user('system:anonymous')]],
    ['with no subject', { kind: 'ClusterRole', name: TRAINEE_CLUSTER_ROLE }, []],
  ] as const)('refuses a RoleBinding %s, by the scope policy', async (what, roleRef, subjects) => {
    const name = `attack-${what.replace(/[^a-z]+/gi, '-').toLowerCase()}`.replace(/-+$/, '');
    const res = await kubectl(['create', '-f', '-'], { kubeconfig: sa.kubeconfig, input: roleBinding(name, roleRef, [...subjects]) });
    expect(res.code, res.stdout).not.toBe(0);
    expect(res.stderr).toContain(sa.scopePolicy);
    expect(await exists(name)).toBe(false);
  });

  it('refuses a RoleBinding to cluster-admin', async () => {
    const res = await kubectl(['create', '-f', '-'],
      { kubeconfig: sa.kubeconfig, input: roleBinding('attack-cluster-admin', { kind: 'ClusterRole', name: 'cluster-admin' }, [trainee]) });
    expect(res.code).not.toBe(0);
    expect(res.stderr).toMatch(/forbidden/i);
    expect(await exists('attack-cluster-admin')).toBe(false);
  });

  it('refuses adding a subject to the trainee RoleBinding afterwards', async () => {
    const patch = JSON.stringify([{ op: 'add', path: '/subjects/-', value: user(`someone-else-${hex}`) }]);
    const res = await kubectl(['patch', 'rolebinding', 'trainee', '-n', playground, '--type=json', '-p', patch], { kubeconfig: sa.kubeconfig });
    expect(res.code).not.toBe(0);
    expect(res.stderr).toContain(sa.scopePolicy);
    const binding = JSON.parse(await kubectlOk(['get', 'rolebinding', 'trainee', '-n', playground, '-o', 'json'], { kubeconfig: admin() })) as {
      subjects: Subject[];
    };
    expect(binding.subjects.map((s) => s.name)).toEqual([trainee.name]);
  });

  it('leaves alone a service account with cluster-admin beside the worker (argocd and the like)', async () => {
    const admins = `kup-scope-admins-${hex}`;
    const as = `--as=system:serviceaccount:${home}:platform-admin`;
    await kubectlOk(['create', 'serviceaccount', 'platform-admin', '-n', home], { kubeconfig: admin() });
    await kubectlOk(['create', 'clusterrolebinding', admins, '--clusterrole=cluster-admin', `--serviceaccount=${home}:platform-admin`],
      { kubeconfig: admin() });
    try {
      await eventually('cluster-admin binding in effect', async () =>
        ((await kubectl(['auth', 'can-i', '*', '*', as], { kubeconfig: admin() })).code === 0 ? true : undefined));
      // Relabelling a namespace that is no playground: RBAC allows it to both, the policy
      // refuses it to the worker only.
      const label = ['label', 'namespace', home, `kup-scope-${hex}=yes`, '--dry-run=server'];
      const res = await kubectl([...label, as], { kubeconfig: admin() });
      expect(res.code, res.stderr).toBe(0);
      const worker = await kubectl(label, { kubeconfig: sa.kubeconfig });
      expect(worker.code).not.toBe(0);
      expect(worker.stderr).toContain(sa.scopePolicy);
    } finally {
      await kubectl(['delete', 'clusterrolebinding', admins, '--ignore-not-found'], { kubeconfig: admin() });
    }
  });

  it('leaves other users alone: the policy matches the worker, not every identity it could', async () => {
    await kubectlOk(['create', '-f', '-'], {
      kubeconfig: admin(),
      input: roleBinding('by-admin', { kind: 'ClusterRole', name: withinWorkerRights }, [user(`a-${hex}`), user(`b-${hex}`)]),
    });
    expect(await exists('by-admin')).toBe(true);
  });
});
