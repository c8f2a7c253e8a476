// The worker's ClusterRole grants what the worker needs and no more, asked of the real
// apiserver's authorizer (SelfSubjectAccessReviews with the ServiceAccount's own token).
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KubernetesClusterGateway } from '@kup/adapters';
import { PURGE_KEEPS } from '@kup/core';
import {
  kubectlOk, type Manifest, renderWithComponents, TRAINEE_CLUSTER_ROLE, type WorkerServiceAccount, workerServiceAccountKubeconfig,
} from '../helpers/service-account-kubeconfig.js';

interface Check {
  verb: string;
  resource: string;
  group?: string;
  name?: string;
  /** A namespace; cluster-wide when absent. */
  namespace?: string;
}

type Rule = { apiGroups?: string[]; resources?: string[]; verbs: string[]; resourceNames?: string[] };

const playground = `kup-rbac-${randomBytes(4).toString('hex')}`;
const label = (c: Check): string =>
  `${c.verb} ${c.group ? `${c.resource}.${c.group}` : c.resource}${c.name ? `/${c.name}` : ''}${c.namespace ? ` -n ${c.namespace}` : ''}`;

/** One SelfSubjectAccessReview per check, sent in one kubectl call. */
async function canI(kubeconfig: string, checks: Check[]): Promise<Map<string, boolean>> {
  const items = checks.map((c) => ({
    apiVersion: 'authorization.k8s.io/v1',
    kind: 'SelfSubjectAccessReview',
    spec: { resourceAttributes: { verb: c.verb, resource: c.resource, group: c.group ?? '', name: c.name, namespace: c.namespace } },
  }));
  const out = await kubectlOk(['create', '-o', 'jsonpath={.status.allowed}{"\\n"}', '-f', '-'],
    { kubeconfig, input: JSON.stringify({ apiVersion: 'v1', kind: 'List', items }) });
  const answers = out.trim().split('\n');
  expect(answers).toHaveLength(checks.length);
  return new Map(checks.map((c, i) => [label(c), answers[i] === 'true']));
}

/** What the worker's code does, in Kubernetes verbs (create, delete, reset, cleanup, sync). */
const needed: Check[] = [
  ...['get', 'list', 'create', 'patch', 'delete'].map((verb) => ({ verb, resource: 'namespaces' })),
  ...['get', 'create', 'patch', 'delete'].flatMap((verb) => [
    { verb, resource: 'rolebindings', group: 'rbac.authorization.k8s.io', namespace: playground },
    { verb, resource: 'resourcequotas', namespace: playground },
    { verb, resource: 'limitranges', namespace: playground },
    { verb, resource: 'networkpolicies', group: 'networking.k8s.io', namespace: playground },
  ]),
  { verb: 'bind', resource: 'clusterroles', group: 'rbac.authorization.k8s.io', name: TRAINEE_CLUSTER_ROLE, namespace: playground },
  // The purge inventory's one cluster-wide list of ServiceAccounts (see the test below).
  { verb: 'list', resource: 'serviceaccounts' },
];

/** Rights the worker must not have. */
const forbidden: Check[] = [
  { verb: 'bind', resource: 'clusterroles', group: 'rbac.authorization.k8s.io', name: 'cluster-admin', namespace: playground },
  { verb: 'bind', resource: 'clusterroles', group: 'rbac.authorization.k8s.io', name: 'admin', namespace: playground },
  { verb: 'escalate', resource: 'clusterroles', group: 'rbac.authorization.k8s.io', name: TRAINEE_CLUSTER_ROLE },
  { verb: 'create', resource: 'clusterroles', group: 'rbac.authorization.k8s.io' },
  { verb: 'create', resource: 'clusterrolebindings', group: 'rbac.authorization.k8s.io' },
  { verb: 'create', resource: 'roles', group: 'rbac.authorization.k8s.io', namespace: playground },
  { verb: 'impersonate', resource: 'users' },
  { verb: 'impersonate', resource: 'serviceaccounts', namespace: 'kube-system' },
  { verb: 'create', resource: 'serviceaccounts/token', namespace: 'kube-system' },
  { verb: 'get', resource: 'secrets', namespace: 'kube-system' },
  { verb: 'list', resource: 'secrets' },
  { verb: 'watch', resource: 'secrets' },
  { verb: 'get', resource: 'configmaps', namespace: playground },
  { verb: 'list', resource: 'configmaps' },
  { verb: 'list', resource: 'deployments', group: 'apps' },
  { verb: 'list', resource: 'pods' },
  { verb: 'list', resource: 'roles', group: 'rbac.authorization.k8s.io' },
  // ServiceAccounts: listed, no more (no single reads, no watch, no writes, no tokens).
  { verb: 'get', resource: 'serviceaccounts', name: 'default', namespace: 'kube-system' },
  { verb: 'watch', resource: 'serviceaccounts' },
  { verb: 'create', resource: 'serviceaccounts', namespace: playground },
  { verb: 'patch', resource: 'serviceaccounts', name: 'default', namespace: playground },
  { verb: 'create', resource: 'serviceaccounts/token', namespace: playground },
  { verb: 'create', resource: 'pods', namespace: playground },
  { verb: 'create', resource: 'pods/exec', namespace: playground },
  { verb: 'create', resource: 'deployments', group: 'apps', namespace: playground },
  { verb: 'patch', resource: 'nodes' },
  { verb: 'create', resource: 'customresourcedefinitions', group: 'apiextensions.k8s.io' },
  { verb: 'create', resource: 'validatingwebhookconfigurations', group: 'admissionregistration.k8s.io' },
];

/** Namespaced resources the trainee role lets a trainee create: purge must be able to empty them. */
function traineeCreatable(base: Manifest[]): Check[] {
  const role = base.find((o) => o.kind === 'ClusterRole' && o.metadata.name === TRAINEE_CLUSTER_ROLE) as Manifest & { rules: Rule[] };
  return role.rules
    .filter((r) => r.verbs.includes('create') || r.verbs.includes('*'))
    .flatMap((r) => (r.apiGroups ?? ['']).flatMap((group) => (r.resources ?? [])
      .filter((resource) => !resource.includes('/'))
      .map((resource) => ({ verb: 'deletecollection', resource, group, namespace: playground }))));
}

describe('k8s/base: the worker ClusterRole', () => {
  let sa: WorkerServiceAccount;
  let base: Manifest[];

  beforeAll(async () => {
    // The trainee role ships as a component (a cluster may have it already): rendered with it.
    base = await renderWithComponents(['trainee-clusterrole']);
    sa = await workerServiceAccountKubeconfig();
  });

  afterAll(async () => {
    await sa?.cleanup();
  });

  it('allows everything the worker does', async () => {
    const allowed = await canI(sa.kubeconfig, needed);
    expect([...allowed].filter(([, ok]) => !ok).map(([what]) => what)).toEqual([]);
  });

  it('allows purge to empty every type a trainee can create', async () => {
    const purge = traineeCreatable(base);
    expect(purge.length).toBeGreaterThan(10);
    const allowed = await canI(sa.kubeconfig, purge);
    expect([...allowed].filter(([, ok]) => !ok).map(([what]) => what)).toEqual([]);
  });

  it('allows purge to empty every built-in type the apiserver lists (the adapter purges by discovery)', async () => {
    // What packages/adapters' CollectionDiscovery picks: namespaced, list + deletecollection,
    // not events; minus the kinds a purge keeps.
    const out = await kubectlOk(['api-resources', '--namespaced=true', '--verbs=list,deletecollection', '--no-headers', '-o', 'name'],
      { kubeconfig: process.env.KUBECONFIG ?? '' });
    const kept = new Set(['resourcequotas', 'limitranges', 'networkpolicies.networking.k8s.io', 'rolebindings.rbac.authorization.k8s.io']);
    const types = out.trim().split('\n').filter((t) => !kept.has(t) && !/^events(\.|$)/.test(t));
    expect(types.length).toBeGreaterThan(15);
    const checks = types.map((t) => {
      const [resource = '', ...group] = t.split('.');
      return { verb: 'deletecollection', resource, group: group.join('.'), namespace: playground };
    });
    const allowed = await canI(sa.kubeconfig, checks);
    expect([...allowed].filter(([, ok]) => !ok).map(([what]) => what)).toEqual([]);
  });

  it('denies binding other roles, writing RBAC, impersonating and reading secrets or workloads', async () => {
    const allowed = await canI(sa.kubeconfig, forbidden);
    expect([...allowed].filter(([, ok]) => ok).map(([what]) => what)).toEqual([]);
  });

  it('lets the purge inventory list ServiceAccounts and nothing else a trainee makes (the rest is read from the quota counts)', async () => {
    const cluster = new KubernetesClusterGateway({ kubeconfig: sa.kubeconfig, timeoutMs: 30_000 });
    try {
      const inventory = await cluster.takeInventory(PURGE_KEEPS);
      expect(inventory.counted).not.toContain('/api/v1/serviceaccounts');
      expect(inventory.counted).toEqual(expect.arrayContaining(['/api/v1/configmaps', '/api/v1/secrets', '/api/v1/pods', '/apis/apps/v1/deployments']));
      expect(inventory.unlisted).toEqual([]);
      // The list at work: this test's namespace holds the `worker` account beside the cluster's `default`.
      expect(inventory.occupied.get(sa.namespace)).toContain('/api/v1/serviceaccounts');
    } finally {
      await cluster.close();
    }
  });

  it('reaches every namespace by RBAC alone (labels are enforced by the scope policy instead)', async () => {
    // RBAC cannot select namespaces by label; worker-scope-policy.yaml confines the worker to
    // playgrounds (tested in service-account-kubeconfig.test.ts). If this fails, RBAC got
    // narrower: update docs/operations.md.
    const allowed = await canI(sa.kubeconfig, [{ verb: 'deletecollection', resource: 'secrets', namespace: 'kube-system' }]);
    expect([...allowed.values()]).toEqual([true]);
  });
});

describe('k8s/components/purge-inventory: the worker may list what a purge empties, Secrets excepted', () => {
  let sa: WorkerServiceAccount;

  beforeAll(async () => {
    sa = await workerServiceAccountKubeconfig({ components: ['purge-inventory'] });
  });

  afterAll(async () => {
    await sa?.cleanup();
  });

  it('lets a purge inventory list every purged type but Secrets, which the playground quotas count', async () => {
    const cluster = new KubernetesClusterGateway({ kubeconfig: sa.kubeconfig, timeoutMs: 30_000 });
    const inventory = await cluster.takeInventory(PURGE_KEEPS);
    expect(inventory.counted).toEqual(['/api/v1/secrets']);
    expect(inventory.unlisted).toEqual([]);
    expect(inventory.namespaces.has('kube-system')).toBe(true);
  });

  it('grants lists only: no reading or writing of single objects, and nothing on Secrets', async () => {
    const lists = await canI(sa.kubeconfig, [{ verb: 'list', resource: 'configmaps' }, { verb: 'list', resource: 'deployments', group: 'apps' }]);
    expect([...lists.values()]).toEqual([true, true]);
    const stillForbidden = forbidden.filter((c) => c.verb !== 'list' || c.resource === 'secrets');
    const allowed = await canI(sa.kubeconfig, [...stillForbidden, { verb: 'watch', resource: 'configmaps' }]);
    expect([...allowed].filter(([, ok]) => ok).map(([what]) => what)).toEqual([]);
  });
});

describe('components/trainee-clusterrole: the trainee ClusterRole', () => {
  it('grants no RBAC writes and keeps quota, limits and network policy read-only', async () => {
    const base = await renderWithComponents(['trainee-clusterrole']);
    const role = base.find((o) => o.kind === 'ClusterRole' && o.metadata.name === TRAINEE_CLUSTER_ROLE) as Manifest & { rules: Rule[] };
    const writes = ['create', 'update', 'patch', 'delete', 'deletecollection', '*', 'bind', 'escalate', 'impersonate'];
    const writable = role.rules.filter((r) => r.verbs.some((v) => writes.includes(v)));
    const offending = writable.flatMap((r) => (r.resources ?? []).map((res) => `${(r.apiGroups ?? ['']).join(',')}/${res}`))
      .filter((res) => /rbac|resourcequotas|limitranges|networkpolicies|namespaces|\*/.test(res));
    expect(offending).toEqual([]);
    expect(role.rules.some((r) => (r.resources ?? []).includes('resourcequotas') && r.verbs.includes('get'))).toBe(true);
  });

  it('grants no write on Endpoints or EndpointSlices and no services/proxy (CVE-2021-25740), yet lets trainees read Endpoints', async () => {
    const base = await renderWithComponents(['trainee-clusterrole']);
    const role = base.find((o) => o.kind === 'ClusterRole' && o.metadata.name === TRAINEE_CLUSTER_ROLE) as Manifest & { rules: Rule[] };
    const granted = (resource: string) => role.rules.filter((r) => (r.resources ?? []).includes(resource) || (r.resources ?? []).includes('*')).flatMap((r) => r.verbs);
    for (const resource of ['endpoints', 'endpointslices', 'services/proxy']) {
      expect(granted(resource).filter((v) => !['get', 'list', 'watch'].includes(v)), resource).toEqual([]);
    }
    expect(granted('services/proxy')).toEqual([]);
    expect(granted('endpoints')).toContain('list');
  });
});
