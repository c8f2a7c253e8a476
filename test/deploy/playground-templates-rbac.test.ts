// Namespace templates with the shipped rights. k8s/base alone does not let the worker write
// ConfigMaps, so a ConfigMap template stops it at start with file:line; with
// components/playground-templates it applies them through its ServiceAccount, yet still
// cannot read ConfigMaps, nor write one outside a managed namespace (the scope policy).
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KubernetesClusterGateway } from '@kup/adapters';
import { InvalidTemplatesError, UpstreamError, describeTrainee, fleetSettings } from '@kup/core';
import { fleetHarness, type FleetHarness } from '../e2e/fleet-harness.js';
import { uniquePrefix, uniqueUsername } from '../helpers/names.js';
import { startTestWorkerApp } from '../helpers/service.js';
import { kubectl, type WorkerServiceAccount, workerServiceAccountKubeconfig } from '../helpers/service-account-kubeconfig.js';
import { workerConfig } from '../helpers/stack.js';

const admin = (): string => process.env.KUBECONFIG ?? '';
const dir = mkdtempSync(join(tmpdir(), 'kup-templates-'));
writeFileSync(join(dir, 'lab.yaml'), `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: lab\ndata:\n  who: \${username}\n`);

describe('templates and the worker\'s ServiceAccount', () => {
  let base: WorkerServiceAccount | undefined;
  let withTemplates: WorkerServiceAccount | undefined;
  let fleet: FleetHarness | undefined;
  const trainee = uniqueUsername('t-tplsa');

  beforeAll(async () => {
    [base, withTemplates] = await Promise.all([workerServiceAccountKubeconfig(), workerServiceAccountKubeconfig({ components: ['playground-templates'] })]);
  });
  afterAll(async () => {
    await fleet?.remove(trainee).catch(() => undefined);
    await kubectl(['delete', 'namespace', trainee, '--ignore-not-found', '--wait=false'], { kubeconfig: admin() });
    await fleet?.close();
    await Promise.all([base?.cleanup(), withTemplates?.cleanup()]);
  });

  it('k8s/base alone: the worker refuses to start, naming the template and the missing rights', async () => {
    const config = workerConfig({ KUBECONFIG: base!.kubeconfig, QUEUE_PREFIX: uniquePrefix('tpl'), PLAYGROUND_TEMPLATES: dir, WORKER_HEALTH_PORT: '0' });
    const started = startTestWorkerApp(config);
    await expect(started).rejects.toThrow(InvalidTemplatesError);
    await expect(started).rejects.toThrow(`${join(dir, 'lab.yaml')}:1: the worker's RBAC does not allow create, patch, delete on configmaps`);
  });

  it('with components/playground-templates: sync applies the template through the ServiceAccount', async () => {
    fleet = await fleetHarness({ KUBECONFIG: withTemplates!.kubeconfig, PLAYGROUND_TEMPLATES: dir });
    await fleet.provision(trainee);
    const { state, job } = await fleet.run('sync', { username: trainee });
    expect(state, job.failedReason).toBe('completed');
    const res = await kubectl(['get', 'configmap', 'lab', '-n', trainee, '-o', 'jsonpath={.data.who}'], { kubeconfig: admin() });
    expect(res.stdout).toBe(trainee);
    // The trainee view (GET /trainees/:username) still works with a worker that may not read ConfigMaps.
    const view = await describeTrainee(fleet.ports, fleetSettings(fleet.config), trainee);
    expect(view?.namespace?.fittings.map((f) => `${f.kind}:${f.state}`)).toContain('ResourceQuota:current');
  });

  it('the added rights stop at writing in managed namespaces: no reading ConfigMaps, no writing elsewhere', async () => {
    const canI = async (...args: string[]) => (await kubectl(['auth', 'can-i', ...args], { kubeconfig: withTemplates!.kubeconfig })).stdout.trim();
    expect(await canI('get', 'configmaps', '-n', 'kube-system')).toBe('no');
    expect(await canI('list', 'configmaps', '--all-namespaces')).toBe('no');
    expect(await canI('create', 'secrets', '-n', trainee)).toBe('no');
    // As the worker would, with the worker's own token: into kube-system and into an unmanaged namespace.
    const cluster = new KubernetesClusterGateway({ kubeconfig: withTemplates!.kubeconfig, timeoutMs: 15_000 });
    try {
      for (const namespace of ['kube-system', withTemplates!.namespace]) {
        const write = cluster.apply({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `planted-${trainee}`, namespace }, data: { x: 'y' } });
        await expect(write).rejects.toThrow(UpstreamError);
        // Refused by the scope policy, not by RBAC (which grants the write in every namespace).
        await expect(write).rejects.toMatchObject({ status: 403, message: expect.stringContaining(`the provisioner works only in namespaces labelled managed-by=k8s-provisioner, not ${namespace}`) });
        const res = await kubectl(['get', 'configmap', `planted-${trainee}`, '-n', namespace, '--ignore-not-found'], { kubeconfig: admin() });
        expect(res.stdout).toBe('');
      }
    } finally {
      await cluster.close();
    }
  });
});
