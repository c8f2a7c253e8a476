import { describe, expect, it, vi } from 'vitest';
import type { KubeObject } from '../ports/cluster-gateway.js';
import * as plan from '../domain/trainee-plan.js';

/**
 * The claim of the step design: a fitting kind added to the plan in ONE place
 * (`namespacedManifests`) is applied by create, sync and reset alike, with nothing else
 * changed. The plan is wrapped here to add a kind nothing else names: a ConfigMap.
 */
vi.mock('../domain/trainee-plan.js', async (importOriginal) => {
  const original = await importOriginal<typeof plan>();
  return {
    ...original,
    namespacedManifests: (settings: plan.PlaygroundSettings, trainee: plan.Trainee): KubeObject[] => [
      ...original.namespacedManifests(settings, trainee),
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'welcome', namespace: trainee.username }, data: { owner: trainee.username } },
    ],
  };
});

const { FakeCluster, FakeGrafana, FakeIdentity } = await import('../test-support/fake-ports.js');
const { ProvisioningService, CREATE_STEPS } = await import('../provisioning/provisioning.service.js');
const { memoryJobState } = await import('../provisioning/step-context.js');
const { SyncUserService } = await import('../fleet/sync-user.service.js');
const { ResetUserService } = await import('../fleet/reset-user.service.js');

const settings = plan.defaultPlaygroundSettings('https://issuer.example/realms/playground', { TRAINEE_CLUSTER_ROLE: 'trainee' });
const fleetSettings = { playground: settings, namespaceDeleteTimeoutMs: 1_000, grafanaOrgId: 1, grafanaRole: 'Viewer' as const, defaultExpiryDays: 30 };
const silent = { info: () => undefined, warn: () => undefined, debug: () => undefined };

function context<S extends object>() {
  const steps: string[] = [];
  const ctx = { jobKey: 'job-1', password: async () => 'Pass-1234567890-abc', state: memoryJobState<S>(), progress: async (step: string) => void steps.push(step), log: silent as never };
  return { ctx, steps };
}

async function created() {
  const fakes = { identity: new FakeIdentity(), cluster: new FakeCluster(), grafana: new FakeGrafana() };
  const service = new ProvisioningService({ ...fakes, settings, grafanaOrgId: 1, grafanaRole: 'Viewer', defaultExpiryDays: 30, namespaceDeleteTimeoutMs: 1_000 });
  const { ctx, steps } = context();
  await service.create({ username: 'zoe', email: 'zoe@x.io' }, ctx);
  return { fakes, steps };
}

const WELCOME = 'ConfigMap/zoe/welcome';

describe('a fitting kind added to the plan alone', () => {
  it('is applied by create, in the documented progress steps', async () => {
    const { fakes, steps } = await created();
    expect(fakes.cluster.objects.get(WELCOME)).toMatchObject({ data: { owner: 'zoe' } });
    expect(steps).toEqual([...CREATE_STEPS]);
  });

  it('is applied again by sync once removed by hand', async () => {
    const { fakes } = await created();
    fakes.cluster.objects.delete(WELCOME);
    const result = await new SyncUserService(fakes, fleetSettings).sync('zoe', context().ctx);
    expect(result).toMatchObject({ rolledBack: false });
    expect(fakes.cluster.objects.has(WELCOME)).toBe(true);
  });

  it.each(['recreate', 'purge'] as const)('is applied again by a %s reset', async (mode) => {
    const { fakes } = await created();
    fakes.cluster.objects.delete(WELCOME);
    expect(await new ResetUserService(fakes, fleetSettings).reset('zoe', mode, context().ctx)).toMatchObject({ reset: true });
    expect(fakes.cluster.objects.has(WELCOME)).toBe(true);
  });
});
