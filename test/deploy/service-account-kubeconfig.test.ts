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
    await kubectlOk(['create', 'namespace', trainee], { kubeconfig: sa.kubeconfig });
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
