// k8s/components/quota-profiles and playground-templates as an operator enables them in the
// example overlay, moved to another namespace: the files reach the API and the worker under
// the generated ConfigMaps' names, the shipped examples are valid, and the worker's extra
// rights are ConfigMap writes only, bound to the worker of that namespace.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadTemplates, readProfilesFile } from '@kup/core';
import { type Manifest, renderExampleIn } from '../helpers/service-account-kubeconfig.js';

interface Container { name: string; env?: { name: string; value?: string }[]; volumeMounts?: { name: string; mountPath: string }[] }
interface PodSpec { containers: Container[]; volumes?: { name: string; configMap?: { name: string } }[] }

describe('components quota-profiles and playground-templates', () => {
  const namespace = 'kup-elsewhere';
  let objects: Manifest[];
  const find = (kind: string, name: string) => objects.find((o) => o.kind === kind && o.metadata.name === name);
  const specOf = (name: string): PodSpec => {
    const deployment = find('Deployment', name) as (Manifest & { spec: { template: { spec: PodSpec } } }) | undefined;
    if (!deployment) throw new Error(`the rendering has no Deployment ${name}`);
    return deployment.spec.template.spec;
  };
  /** The directory a setting points at, with the ConfigMap mounted there, as the container sees it. */
  const mounted = (deployment: string, setting: string) => {
    const spec = specOf(deployment);
    const container = spec.containers[0] as Container;
    const path = container.env?.find((e) => e.name === setting)?.value ?? '';
    const mount = container.volumeMounts?.find((m) => path.startsWith(m.mountPath));
    const configMap = spec.volumes?.find((v) => v.name === mount?.name)?.configMap?.name ?? '';
    const data = (find('ConfigMap', configMap) as { data?: Record<string, string> } | undefined)?.data;
    const dir = mkdtempSync(join(tmpdir(), 'kup-mounted-'));
    for (const [key, text] of Object.entries(data ?? {})) writeFileSync(join(dir, key), text);
    return { path, dir, relative: path.slice((mount?.mountPath ?? '').length), configMap };
  };

  beforeAll(async () => {
    objects = await renderExampleIn(namespace, ['quota-profiles', 'playground-templates']);
  });

  it('mounts the shipped templates into the worker under the generated name; they load', () => {
    const { dir, configMap } = mounted('worker', 'PLAYGROUND_TEMPLATES');
    expect(configMap).toMatch(/^k8s-user-provisioner-templates-[a-z0-9]+$/);
    const loaded = loadTemplates(dir);
    expect('templates' in loaded && loaded.templates.map((t) => `${t.kind}`)).toEqual(['ConfigMap']);
  });

  it('mounts the shipped profiles into the API and the worker; they parse', () => {
    for (const deployment of ['api', 'worker']) {
      const { dir, relative, configMap } = mounted(deployment, 'QUOTA_PROFILES_FILE');
      expect(configMap).toMatch(/^k8s-user-provisioner-quota-profiles-[a-z0-9]+$/);
      const read = readProfilesFile(join(dir, relative));
      expect('profiles' in read && Object.keys(read.profiles)).toEqual(['workshop']);
    }
  });

  it('grants the worker of that namespace ConfigMap writes only: no read, nothing else', () => {
    const role = find('ClusterRole', 'k8s-user-provisioner-worker-templates') as Manifest & { rules: unknown[] };
    expect(role.rules).toEqual([{ apiGroups: [''], resources: ['configmaps'], verbs: ['create', 'patch', 'delete'] }]);
    const binding = find('ClusterRoleBinding', 'k8s-user-provisioner-worker-templates') as Manifest & { subjects: unknown[] };
    expect(binding.subjects).toEqual([{ kind: 'ServiceAccount', name: 'worker', namespace }]);
  });
});
