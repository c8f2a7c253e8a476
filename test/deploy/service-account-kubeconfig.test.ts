// The helper other e2e tests use to run the worker with only the shipped ServiceAccount's
// rights: its kubeconfig really authenticates as that ServiceAccount, can do the worker's
// job, and cannot step outside it.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kubectl, kubectlOk, type WorkerServiceAccount, workerServiceAccountKubeconfig } from '../helpers/service-account-kubeconfig.js';

const admin = (): string => process.env.KUBECONFIG ?? '';
const suffix = (): string => randomBytes(4).toString('hex');

const roleBinding = (name: string, namespace: string, roleRef: { kind: string; name: string }): string =>
  JSON.stringify({
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'RoleBinding',
    metadata: { name, namespace },
    subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: `https://issuer.example#${name}` }],
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', ...roleRef },
  });

describe('test helper: a kubeconfig for the worker ServiceAccount', () => {
  let sa: WorkerServiceAccount;
  const trainee = `kup-sa-trainee-${suffix()}`;

  beforeAll(async () => {
    sa = await workerServiceAccountKubeconfig();
  });

  afterAll(async () => {
    await kubectl(['delete', 'namespace', trainee, '--ignore-not-found', '--wait=false'], { kubeconfig: admin() });
    await sa?.cleanup();
  });

  it('authenticates as the ServiceAccount, not as the admin', async () => {
    const who = JSON.parse(await kubectlOk(['auth', 'whoami', '-o', 'json'], { kubeconfig: sa.kubeconfig })) as {
      status: { userInfo: { username: string; groups: string[] } };
    };
    expect(who.status.userInfo.username).toBe(sa.user);
    expect(who.status.userInfo.groups).not.toContain('system:masters');
  });

  it('creates a playground namespace, binds the trainee ClusterRole in it, deletes it', async () => {
    const namespace = {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: trainee, labels: { 'managed-by': 'k8s-provisioner', 'pod-security.kubernetes.io/enforce': 'baseline' } },
    };
    await kubectlOk(['apply', '--server-side', '--field-manager=k8s-user-provisioner', '-f', '-'],
      { kubeconfig: sa.kubeconfig, input: JSON.stringify(namespace) });
    await kubectlOk(['apply', '--server-side', '--field-manager=k8s-user-provisioner', '-f', '-'],
      { kubeconfig: sa.kubeconfig, input: roleBinding(trainee, trainee, { kind: 'ClusterRole', name: sa.traineeClusterRole }) });
    const bound = JSON.parse(await kubectlOk(['get', 'rolebinding', trainee, '-n', trainee, '-o', 'json'], { kubeconfig: sa.kubeconfig })) as {
      roleRef: { name: string };
    };
    expect(bound.roleRef.name).toBe('read-write-all-except-resourcequotas');
    await kubectlOk(['delete', 'namespace', trainee, '--wait=false'], { kubeconfig: sa.kubeconfig });
  });

  it('cannot bind any other role, nor create ClusterRoleBindings or ClusterRoles', async () => {
    const clusterAdmin = await kubectl(['create', '-f', '-'],
      { kubeconfig: sa.kubeconfig, input: roleBinding(`${trainee}-admin`, sa.namespace, { kind: 'ClusterRole', name: 'cluster-admin' }) });
    expect(clusterAdmin.code).not.toBe(0);
    expect(clusterAdmin.stderr).toMatch(/forbidden/i);

    const crb = await kubectl(['create', 'clusterrolebinding', `${trainee}-crb`, '--clusterrole=read-write-all-except-resourcequotas',
      `--user=${trainee}`], { kubeconfig: sa.kubeconfig });
    expect(crb.code).not.toBe(0);
    expect(crb.stderr).toMatch(/forbidden/i);

    const role = await kubectl(['create', 'clusterrole', `${trainee}-role`, '--verb=get', '--resource=pods'], { kubeconfig: sa.kubeconfig });
    expect(role.code).not.toBe(0);
    expect(role.stderr).toMatch(/forbidden/i);
  });
});

describe('k8s/base: the worker scope policy (ValidatingAdmissionPolicy), with the worker token', () => {
  let sa: WorkerServiceAccount;
  const scratch = `kup-scope-${suffix()}`;
  const configMaps = `/api/v1/namespaces/${scratch}/configmaps`;
  const configMapCount = async (): Promise<number> =>
    (JSON.parse(await kubectlOk(['get', '--raw', configMaps], { kubeconfig: admin() })) as { items: unknown[] }).items.length;

  beforeAll(async () => {
    sa = await workerServiceAccountKubeconfig();
    await kubectlOk(['create', 'namespace', scratch], { kubeconfig: admin() });
    await kubectlOk(['create', 'configmap', 'keep-me', '-n', scratch, '--from-literal=a=b'], { kubeconfig: admin() });
  });

  afterAll(async () => {
    await kubectl(['delete', 'namespace', scratch, '--ignore-not-found', '--wait=false'], { kubeconfig: admin() });
    await sa?.cleanup();
  });

  it('lets the worker delete nothing in a namespace it does not manage', async () => {
    const purge = await kubectl(['delete', '--raw', configMaps], { kubeconfig: sa.kubeconfig });
    expect(purge.code).not.toBe(0);
    expect(purge.stderr).toContain('labelled managed-by=k8s-provisioner');
    const drop = await kubectl(['delete', 'namespace', scratch, '--wait=false'], { kubeconfig: sa.kubeconfig });
    expect(drop.code).not.toBe(0);
    expect(drop.stderr).toContain('labelled managed-by=k8s-provisioner');
    expect(await configMapCount()).toBeGreaterThanOrEqual(1);
    const adopt = await kubectl(['label', 'namespace', scratch, 'managed-by=k8s-provisioner'], { kubeconfig: sa.kubeconfig });
    expect(adopt.code).not.toBe(0);
    expect(adopt.stderr).toContain('labelled managed-by=k8s-provisioner');
  });

  it('refuses a playground namespace without an enforced Pod Security level, on create and on update', async () => {
    const name = `${scratch}-psa`;
    const namespace = (labels: Record<string, string>): string =>
      JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels: { 'managed-by': 'k8s-provisioner', ...labels } } });
    const apply = (labels: Record<string, string>) =>
      kubectl(['apply', '--server-side', '--field-manager=k8s-user-provisioner', '-f', '-'], { kubeconfig: sa.kubeconfig, input: namespace(labels) });
    try {
      for (const labels of [{}, { 'pod-security.kubernetes.io/enforce': 'privileged' }] as Record<string, string>[]) {
        const res = await apply(labels);
        expect(res.code, JSON.stringify(labels)).not.toBe(0);
        expect(res.stderr).toContain('pod-security.kubernetes.io/enforce=baseline or restricted');
      }
      expect((await kubectl(['get', 'namespace', name], { kubeconfig: admin() })).code).not.toBe(0);
      await kubectlOk(['apply', '--server-side', '--field-manager=k8s-user-provisioner', '-f', '-'],
        { kubeconfig: sa.kubeconfig, input: namespace({ 'pod-security.kubernetes.io/enforce': 'restricted' }) });
      // Dropping or weakening the level later is refused too.
      const drop = await kubectl(['label', 'namespace', name, 'pod-security.kubernetes.io/enforce-'], { kubeconfig: sa.kubeconfig });
      expect(drop.code).not.toBe(0);
      expect(drop.stderr).toContain('pod-security.kubernetes.io/enforce=baseline or restricted');
      const weaken = await kubectl(['label', '--overwrite', 'namespace', name, 'pod-security.kubernetes.io/enforce=privileged'], { kubeconfig: sa.kubeconfig });
      expect(weaken.code).not.toBe(0);
      const labels = JSON.parse(await kubectlOk(['get', 'namespace', name, '-o', 'jsonpath={.metadata.labels}'], { kubeconfig: admin() })) as Record<string, string>;
      expect(labels['pod-security.kubernetes.io/enforce']).toBe('restricted');
    } finally {
      await kubectl(['delete', 'namespace', name, '--ignore-not-found', '--wait=false'], { kubeconfig: admin() });
    }
  });

  it('keeps the worker from binding the trainee role outside playgrounds', async () => {
    const res = await kubectl(['create', 'rolebinding', `${scratch}-x`, '-n', 'kube-system',
      '--clusterrole=read-write-all-except-resourcequotas', `--user=${scratch}`], { kubeconfig: sa.kubeconfig });
    expect(res.code).not.toBe(0);
    expect(res.stderr).toContain(sa.scopePolicy);
  });

  it('lets it purge and delete once the namespace is labelled as a playground', async () => {
    await kubectlOk(['label', 'namespace', scratch, 'managed-by=k8s-provisioner'], { kubeconfig: admin() });
    await kubectlOk(['delete', '--raw', configMaps], { kubeconfig: sa.kubeconfig });
    // kube-root-ca.crt may come back (the controller-manager republishes it); ours must not.
    const left = JSON.parse(await kubectlOk(['get', '--raw', configMaps], { kubeconfig: admin() })) as { items: { metadata: { name: string } }[] };
    expect(left.items.map((i) => i.metadata.name)).not.toContain('keep-me');
    await kubectlOk(['delete', 'namespace', scratch, '--wait=false'], { kubeconfig: sa.kubeconfig });
  });
});
