// The worker doing its whole job (create, reset in both modes, delete) against the stack
// with only the shipped ServiceAccount's rights: k8s/base's ClusterRole and scope policy
// are enough. Everything Kubernetes-side goes through the ServiceAccount's token; the
// checks read with the admin kubeconfig.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createJobResult } from '@kup/core';
import { fleetHarness, type FleetHarness } from '../e2e/fleet-harness.js';
import { emailOf, uniqueUsername } from '../helpers/names.js';
import { kubectl, kubectlOk, type WorkerServiceAccount, workerServiceAccountKubeconfig } from '../helpers/service-account-kubeconfig.js';
import { eventually } from '../helpers/stack.js';
import { testWorker, waitForJob, type TestWorker } from '../helpers/worker.js';

const admin = (): string => process.env.KUBECONFIG ?? '';

async function getAsAdmin(args: string[]): Promise<Record<string, unknown> | undefined> {
  const res = await kubectl(['get', ...args, '-o', 'json'], { kubeconfig: admin() });
  if (res.code !== 0 && /NotFound|not found/.test(res.stderr)) return undefined;
  if (res.code !== 0) throw new Error(res.stderr);
  return JSON.parse(res.stdout) as Record<string, unknown>;
}
const uidOf = async (namespace: string): Promise<string | undefined> =>
  ((await getAsAdmin(['namespace', namespace]))?.metadata as { uid?: string } | undefined)?.uid;

describe('worker with only the shipped ServiceAccount', () => {
  let sa: WorkerServiceAccount;
  let w: TestWorker;
  let fleet: FleetHarness;
  const trainee = uniqueUsername('t-sa');

  beforeAll(async () => {
    sa = await workerServiceAccountKubeconfig();
    w = await testWorker({ overrides: { KUBECONFIG: sa.kubeconfig } });
    fleet = await fleetHarness({ KUBECONFIG: sa.kubeconfig });
  });

  afterAll(async () => {
    const job = await w?.addDelete({ usernames: [trainee] }).catch(() => undefined);
    if (job?.id) await waitForJob(w.queue, job.id, 150_000).catch(() => undefined);
    await kubectl(['delete', 'namespace', trainee, '--ignore-not-found', '--wait=false'], { kubeconfig: admin() });
    await fleet?.close();
    await w?.close();
    await sa?.cleanup();
  });

  it('creates a complete playground', async () => {
    const job = await w.addCreate({ username: trainee, email: emailOf(trainee) });
    const { state } = await waitForJob(w.queue, job.id as string, 150_000);
    expect(state, (await w.queue.getJob(job.id as string))?.failedReason).toBe('completed');
    expect(createJobResult.parse((await w.queue.getJob(job.id as string))?.returnvalue)).toMatchObject({ username: trainee });

    const ns = await getAsAdmin(['namespace', trainee]);
    expect((ns?.metadata as { labels?: Record<string, string> } | undefined)?.labels).toMatchObject({ 'managed-by': 'k8s-provisioner' });
    const binding = await getAsAdmin(['rolebinding', trainee, '-n', trainee]);
    expect(binding?.roleRef).toMatchObject({ kind: 'ClusterRole', name: sa.traineeClusterRole });
    expect(await getAsAdmin(['resourcequota', 'resource-limits', '-n', trainee])).toBeDefined();
    expect(await getAsAdmin(['limitrange', 'default-limits', '-n', trainee])).toBeDefined();
  });

  it('purges the playground in place (every discovered type), keeping it and its fittings', async () => {
    await kubectlOk(['create', 'configmap', 'trainee-work', '-n', trainee, '--from-literal=k=v'], { kubeconfig: admin() });
    await kubectlOk(['create', 'secret', 'generic', 'trainee-secret', '-n', trainee, '--from-literal=k=v'], { kubeconfig: admin() });
    const uid = await uidOf(trainee);
    const { state, job } = await fleet.run('reset', { usernamePrefix: trainee, mode: 'purge' });
    expect(state, job.failedReason).toBe('completed');
    expect(job.returnvalue).toMatchObject({ namespaces_reset: 1, failed_resets: [], mode: 'purge' });
    await eventually('trainee objects gone', async () =>
      (await getAsAdmin(['configmap', 'trainee-work', '-n', trainee])) || (await getAsAdmin(['secret', 'trainee-secret', '-n', trainee]))
        ? undefined : true);
    expect(await uidOf(trainee)).toBe(uid);
    expect(await getAsAdmin(['rolebinding', trainee, '-n', trainee])).toBeDefined();
    expect(await getAsAdmin(['resourcequota', 'resource-limits', '-n', trainee])).toBeDefined();
  });

  it('recreates the playground', async () => {
    const uid = await uidOf(trainee);
    const { state, job } = await fleet.run('reset', { usernamePrefix: trainee, mode: 'recreate' });
    expect(state, job.failedReason).toBe('completed');
    expect(job.returnvalue).toMatchObject({ namespaces_reset: 1, failed_resets: [], mode: 'recreate' });
    const fresh = await uidOf(trainee);
    expect(fresh).toBeDefined();
    expect(fresh).not.toBe(uid);
    expect(await getAsAdmin(['rolebinding', trainee, '-n', trainee])).toBeDefined();
  });

  it('deletes the playground', async () => {
    const job = await w.addDelete({ usernames: [trainee] });
    const { state } = await waitForJob(w.queue, job.id as string, 150_000);
    expect(state, (await w.queue.getJob(job.id as string))?.failedReason).toBe('completed');
    await eventually('namespace gone', async () => ((await getAsAdmin(['namespace', trainee])) ? undefined : true), 120_000);
  });
});
