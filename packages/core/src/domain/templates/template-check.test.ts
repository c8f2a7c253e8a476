import { describe, expect, it } from 'vitest';
import { FakeCluster } from '../../test-support/fake-ports.js';
import { defaultPlaygroundSettings } from '../trainee-plan.js';
import { assertTemplatesUsable, InvalidTemplatesError, templateProblems } from './template-check.js';
import { parseTemplateText } from './template-files.js';

const settingsOf = (text: string) => ({ ...defaultPlaygroundSettings('https://issuer.test/realms/p'), templates: parseTemplateText(text, 'lab.yaml').templates });
const configMap = (name: string) => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\n`;

describe('template checks against the cluster (worker start)', () => {
  it('passes templates the cluster serves, namespaced, that the worker may write', async () => {
    expect(await templateProblems(new FakeCluster(), settingsOf(configMap(`lab-\${username}`)))).toEqual([]);
    await expect(assertTemplatesUsable(new FakeCluster(), settingsOf(configMap('lab')))).resolves.toBeUndefined();
  });

  it('refuses, with file:line, a cluster-scoped kind, an unknown kind and a kind the worker may not write', async () => {
    const cluster = new FakeCluster();
    cluster.denied.add('configmaps:delete');
    const text = [
      configMap('lab'),
      'apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: everything\n',
      'apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w\n',
    ].join('---\n');
    expect(await templateProblems(cluster, settingsOf(text))).toEqual([
      "lab.yaml:1: the worker's RBAC does not allow delete on configmaps (see docs/playground-templates.md)",
      'lab.yaml:6: ClusterRole is cluster-scoped; templates hold only namespaced objects',
      'lab.yaml:11: the cluster does not serve example.com/v1 Widget',
    ]);
  });

  it('refuses a template that would overwrite one of the playground\'s own objects or another template\'s', async () => {
    const cluster = new FakeCluster();
    cluster.kinds.set('ResourceQuota', { resource: 'resourcequotas', namespaced: true });
    cluster.kinds.set('RoleBinding', { resource: 'rolebindings', namespaced: true });
    const text = [
      'apiVersion: v1\nkind: ResourceQuota\nmetadata:\n  name: resource-limits\nspec: {hard: {pods: "1000"}}\n',
      `apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata:\n  name: \${username}\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}\n`,
      configMap('lab'),
      configMap('lab'),
      configMap(`Lab_\${email}`),
      configMap(`lab-\${cohort}`),
    ].join('---\n');
    const problems = await templateProblems(cluster, settingsOf(text));
    expect(problems).toEqual([
      "lab.yaml:1: ResourceQuota resource-limits is one of the playground's own objects",
      "lab.yaml:7: RoleBinding template-check is one of the playground's own objects",
      'lab.yaml:18: ConfigMap lab is also written by lab.yaml:13',
      'lab.yaml:23: metadata.name renders as "Lab_template.check@example.com", not a valid object name',
      'lab.yaml:28: metadata.name renders as "lab-" for a trainee without email or cohort, not a valid object name',
    ]);
    await expect(assertTemplatesUsable(cluster, settingsOf(text))).rejects.toThrow(InvalidTemplatesError);
    await expect(assertTemplatesUsable(cluster, settingsOf(text))).rejects.toThrow(/PLAYGROUND_TEMPLATES: invalid templates:\n {2}- lab\.yaml:1: /);
  });
});
