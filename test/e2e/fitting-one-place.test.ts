// A fitting kind added to the plan in one place (`namespacedManifests`) reaches the real
// cluster through every operation: create writes it, sync and both resets put it back
// once an admin deleted it. The plan is wrapped here with a ConfigMap nothing else names.
import { CoreV1Api } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type * as plan from '../../packages/core/src/domain/trainee-plan.js';
import { uniqueUsername } from '../helpers/names.js';
import { adminKubeConfig, kubeStatus } from '../helpers/stack.js';
import { fleetHarness, type FleetHarness } from './fleet-harness.js';

const WELCOME = 'playground-welcome';

vi.mock('../../packages/core/src/domain/trainee-plan.js', async (importOriginal) => {
  const original = await importOriginal<typeof plan>();
  return {
    ...original,
    namespacedManifests: (settings: plan.PlaygroundSettings, trainee: plan.Trainee) => [
      ...original.namespacedManifests(settings, trainee),
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: WELCOME, namespace: trainee.username }, data: { owner: trainee.username } },
    ],
  };
});

describe('a fitting kind added to the plan alone, on the stack', () => {
  let h: FleetHarness;
  const prefix = uniqueUsername('t-one');
  const trainee = `${prefix}-a`;
  const core = adminKubeConfig().makeApiClient(CoreV1Api);

  const welcome = () => core.readNamespacedConfigMap({ name: WELCOME, namespace: trainee }).then((cm) => cm.data, kubeStatus);
  async function deleteWelcome(): Promise<void> {
    await core.deleteNamespacedConfigMap({ name: WELCOME, namespace: trainee });
    expect(await welcome()).toBe(404);
  }

  beforeAll(async () => {
    h = await fleetHarness();
    await h.provision(trainee);
  });

  afterAll(async () => {
    await h?.remove(trainee).catch(() => undefined);
    await h?.close();
  });

  it('create writes it', async () => {
    expect(await welcome()).toEqual({ owner: trainee });
  });

  it('sync puts it back', async () => {
    await deleteWelcome();
    const { state, job } = await h.run('sync', { username: trainee });
    expect(state, job.failedReason).toBe('completed');
    expect(await welcome()).toEqual({ owner: trainee });
  });

  it.each(['purge', 'recreate'] as const)('a %s reset puts it back', async (mode) => {
    await deleteWelcome();
    const { state, job } = await h.run('reset', { usernamePrefix: prefix, mode });
    expect(state, job.failedReason).toBe('completed');
    expect(job.returnvalue).toMatchObject({ namespaces_reset: 1, failed_resets: [] });
    expect(await welcome()).toEqual({ owner: trainee });
  });
});
