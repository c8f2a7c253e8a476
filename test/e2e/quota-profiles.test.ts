// Quota profiles end to end: the API takes `profile` (a file's profiles too) and refuses an
// unknown one with the valid names, enqueuing nothing; the worker gives the trainee that
// profile's quota (and LimitRange) and records it on the namespace; a hand-edited quota is put
// back to the trainee's profile (not the default) by sync; the default is unchanged.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createJobId, LABELS, QUOTA_NAME } from '@kup/core';
import { emailOf, uniquePrefix, uniqueUsername } from '../helpers/names.js';
import { startTestApi, type TestApi } from '../helpers/service.js';
import { kubectlOk } from '../helpers/service-account-kubeconfig.js';
import { findKeycloakUser } from '../helpers/stack.js';
import { testWorker, waitForJob, type TestWorker } from '../helpers/worker.js';
import { fleetHarness, type FleetHarness } from './fleet-harness.js';

describe('quota profiles', () => {
  const prefix = uniquePrefix('qp');
  const small = uniqueUsername('t-qps');
  const plain = uniqueUsername('t-qpm');
  const profilesFile = join(mkdtempSync(join(tmpdir(), 'kup-profiles-')), 'profiles.yaml');
  writeFileSync(profilesFile, 'profiles:\n  gpu-lab:\n    quota: {pods: 2}\n');
  let api: TestApi;
  let worker: TestWorker;
  let fleet: FleetHarness | undefined;
  /** The quota as the cluster has it (read with the admin kubeconfig). */
  const hardOf = async (namespace: string) =>
    (JSON.parse(await kubectlOk(['get', 'resourcequota', QUOTA_NAME, '-n', namespace, '-o', 'json'])) as { spec: { hard: Record<string, string> } }).spec.hard;
  const post = (body: Record<string, unknown>) =>
    api.app.inject({ method: 'POST', url: '/provisioner', headers: { authorization: `Bearer ${api.token}` }, payload: body });

  beforeAll(async () => {
    api = await startTestApi(prefix, { QUOTA_PROFILES_FILE: profilesFile });
    worker = await testWorker({ overrides: { QUEUE_PREFIX: prefix, QUOTA_PROFILES_FILE: profilesFile } });
    fleet = await fleetHarness({ QUOTA_PROFILES_FILE: profilesFile });
  });
  afterAll(async () => {
    for (const u of [small, plain]) await fleet?.remove(u).catch(() => undefined);
    await fleet?.close();
    await worker?.close();
    await api?.close();
  });

  it('refuses an unknown profile with the valid names, and enqueues nothing', async () => {
    const res = await post({ email: emailOf(uniqueUsername('t-qpx')), profile: 'huge' });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ code: 'UNKNOWN_PROFILE', message: 'unknown profile "huge": one of gpu-lab, large, medium, small' });
    expect(await worker.queue.getJobCounts('waiting', 'active', 'completed', 'failed', 'delayed')).toEqual({ waiting: 0, active: 0, completed: 0, failed: 0, delayed: 0 });
  });

  it('creates a trainee with the small profile\'s quota, recorded on the namespace; the default stays medium', async () => {
    const accepted = [await post({ email: emailOf(small), profile: 'small' }), await post({ email: emailOf(plain) })];
    expect(accepted.map((r) => r.statusCode)).toEqual([202, 202]);
    for (const u of [small, plain]) {
      const { state, job } = await waitForJob(worker.queue, createJobId(u), 120_000);
      expect(state, job.failedReason).toBe('completed');
    }
    expect((await worker.queue.getJob(createJobId(small)))?.data).toMatchObject({ profile: 'small' });
    expect(await hardOf(small)).toMatchObject({ pods: '10', 'requests.cpu': '50m', 'limits.cpu': '250m', persistentvolumeclaims: '2' });
    expect(await hardOf(plain)).toMatchObject({ pods: '20', 'requests.cpu': '100m', 'limits.cpu': '500m', persistentvolumeclaims: '5' });
    const labels = async (u: string) => JSON.parse(await kubectlOk(['get', 'namespace', u, '-o', 'jsonpath={.metadata.labels}'])) as Record<string, string>;
    expect((await labels(small))[LABELS.profile]).toBe('small');
    expect((await labels(plain))[LABELS.profile]).toBe('medium');
    // Kept in Keycloak too, for a namespace made again.
    expect((await findKeycloakUser(small))?.attributes).toMatchObject({ 'quota-profile': ['small'] });
    expect((await findKeycloakUser(plain))?.attributes).not.toHaveProperty('quota-profile');
  });

  it('sync puts a hand-edited quota back to the trainee\'s profile', async () => {
    await kubectlOk(['patch', 'resourcequota', QUOTA_NAME, '-n', small, '--type=merge', '-p', '{"spec":{"hard":{"pods":"500","limits.cpu":"64"}}}']);
    expect(await hardOf(small)).toMatchObject({ pods: '500', 'limits.cpu': '64' });
    const { state, job } = await fleet!.run('sync', { username: small });
    expect(state, job.failedReason).toBe('completed');
    expect(await hardOf(small)).toMatchObject({ pods: '10', 'limits.cpu': '250m' });
  });

  it('a namespace deleted by hand is made again by sync with the trainee\'s profile, read back from Keycloak', async () => {
    await fleet!.ports.cluster.deleteNamespace(small);
    await fleet!.ports.cluster.waitForNamespaceGone(small, 90_000);
    const { state, job } = await fleet!.run('sync', { username: small });
    expect(state, job.failedReason).toBe('completed');
    expect(await hardOf(small)).toMatchObject({ pods: '10', 'requests.cpu': '50m' });
  });

  it('PATCH /trainees/:username moves a trainee to another profile; an unknown one is a 400 and queues nothing', async () => {
    const patch = (username: string, body: Record<string, unknown>) =>
      api.app.inject({ method: 'PATCH', url: `/trainees/${username}`, headers: { authorization: `Bearer ${api.token}`, prefer: 'wait=60' }, payload: body });
    const refused = await patch(small, { profile: 'huge' });
    expect(refused.statusCode).toBe(400);
    expect(refused.json()).toMatchObject({ code: 'UNKNOWN_PROFILE', message: 'unknown profile "huge": one of gpu-lab, large, medium, small' });
    expect(await worker.queue.getJob(`set-profile-${small}`)).toBeUndefined();
    expect((await patch(small, { profile: 'large', expiresAt: '2030-01-01T00:00:00Z' })).statusCode).toBe(400);

    const moved = await patch(small, { profile: 'large' });
    expect(moved.statusCode, moved.body).toBe(200);
    expect(moved.json()).toEqual({ username: small, profile: 'large', previous: 'small', jobId: `set-profile-${small}` });
    expect(await hardOf(small)).toMatchObject({ pods: '40', 'limits.cpu': '1' });
    expect(JSON.parse(await kubectlOk(['get', 'namespace', small, '-o', 'jsonpath={.metadata.labels}']))[LABELS.profile]).toBe('large');
    expect((await findKeycloakUser(small))?.attributes).toMatchObject({ 'quota-profile': ['large'] });
    // A sync keeps the new profile.
    const { state } = await fleet!.run('sync', { username: small });
    expect(state).toBe('completed');
    expect(await hardOf(small)).toMatchObject({ pods: '40' });

    const nobody = await patch(uniqueUsername('t-qpn'), { profile: 'small' });
    expect(nobody.statusCode).toBe(404);
  });

  it('the worker refuses a profile it does not know, before Keycloak hears of the trainee', async () => {
    const stray = uniqueUsername('t-qpu');
    const job = await worker.addCreate({ username: stray, email: emailOf(stray), profile: 'not-here' });
    const { state, job: done } = await waitForJob(worker.queue, job.id as string);
    expect(state).toBe('failed');
    expect(done.failedReason).toBe('INVALID_INPUT: unknown profile "not-here": one of gpu-lab, large, medium, small');
    expect(await findKeycloakUser(stray)).toBeUndefined();
  });
});
