// The worker against the real stack: create, repeat, conflict, delete, with a trainee's
// own password proving the result in Kubernetes (OIDC) and Grafana.
import { CoreV1Api, RbacAuthorizationV1Api } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createJobResult, deleteJobResult } from '@kup/core';
import { emailOf, uniqueUsername } from '../helpers/names.js';
import { createConfigMapAs, grafanaLoginStatus, oidcLogin } from '../helpers/oidc.js';
import {
  adminKubeConfig,
  createKeycloakUser,
  deleteKeycloakUser,
  ensureTraineeClusterRole,
  findGrafanaUser,
  findKeycloakUser,
  getNamespace,
  stackEnv,
} from '../helpers/stack.js';
import { testWorker, waitForJob, type TestWorker } from '../helpers/worker.js';

describe('worker: create and delete against the stack', () => {
  let w: TestWorker;
  const alice = uniqueUsername('t-alice');
  const bob = uniqueUsername('t-bob');
  const cleanup: string[] = [];

  beforeAll(async () => {
    await ensureTraineeClusterRole();
    w = await testWorker();
  });

  afterAll(async () => {
    for (const name of cleanup) {
      const job = await w.addDelete({ usernames: [name] }).catch(() => undefined);
      if (job?.id) await waitForJob(w.queue, job.id, 150_000).catch(() => undefined);
    }
    await w?.close();
  });

  it('creates a complete playground whose password works in Kubernetes and Grafana', async () => {
    cleanup.push(alice, bob);
    const [jobA, jobB] = await Promise.all([
      w.addCreate({ username: alice, email: emailOf(alice), fullName: 'Alice Trainee', expiresAt: '2030-01-01T00:00:00Z' }),
      w.addCreate({ username: bob, email: emailOf(bob) }),
    ]);
    const [a, b] = await Promise.all([waitForJob(w.queue, jobA.id as string), waitForJob(w.queue, jobB.id as string)]);
    expect(a.state, a.job.failedReason).toBe('completed');
    expect(b.state, b.job.failedReason).toBe('completed');
    const result = createJobResult.parse(a.job.returnvalue);
    expect(result).toMatchObject({ username: alice, alreadyProvisioned: false, passwordIssued: true, namespace: alice });
    expect(a.job.progress).toMatchObject({ step: 'finish' });

    // Keycloak: provisioned last, marked, expiry kept.
    const user = await findKeycloakUser(alice);
    expect(user?.id).toBe(result.userId);
    expect(user?.email).toBe(emailOf(alice));
    expect(user?.attributes).toMatchObject({ 'managed-by': ['k8s-provisioner'], provisioned: ['true'], 'expires-at': ['2030-01-01T00:00:00Z'] });

    // Kubernetes: namespace, RoleBinding to the issuer#sub subject, quota, limits.
    const kc = adminKubeConfig();
    const namespace = await getNamespace(alice);
    expect(namespace?.metadata?.labels).toMatchObject({ 'managed-by': 'k8s-provisioner', provisioned: 'true' });
    expect(namespace?.metadata?.annotations).toMatchObject({ 'k8s-user-provisioner/email': emailOf(alice), 'k8s-user-provisioner/expires-at': '2030-01-01T00:00:00Z' });
    const binding = await kc.makeApiClient(RbacAuthorizationV1Api).readNamespacedRoleBinding({ name: alice, namespace: alice });
    expect(binding.subjects?.[0]).toMatchObject({ kind: 'User', name: `${stackEnv('OIDC_ISSUER_URL')}#${result.userId}` });
    expect(binding.roleRef.name).toBe('read-write-all-except-resourcequotas');
    const core = kc.makeApiClient(CoreV1Api);
    const quota = await core.readNamespacedResourceQuota({ name: 'resource-limits', namespace: alice });
    expect(quota.spec?.hard).toMatchObject({ pods: '20', 'requests.cpu': '100m', 'limits.memory': '4Gi' });
    const limits = await core.readNamespacedLimitRange({ name: 'default-limits', namespace: alice });
    expect(limits.spec?.limits[0]?.type).toBe('Container');

    // Grafana.
    const grafanaUser = await findGrafanaUser(alice);
    expect(grafanaUser).toMatchObject({ id: result.grafanaUserId, login: alice, email: emailOf(alice) });

    // The password, as the API reads it, logs in everywhere; RBAC keeps trainees apart.
    const password = await w.passwordOf(a.job);
    expect(password).toBeTruthy();
    const { idToken } = await oidcLogin(alice, password as string);
    expect(await createConfigMapAs(idToken, alice, 'hello')).toBe(201);
    expect(await createConfigMapAs(idToken, bob, 'intrusion')).toBe(403);
    expect(await grafanaLoginStatus(alice, password as string)).toBe(200);
    expect(await grafanaLoginStatus(alice, 'not-the-password')).toBe(401);

    // No secret in job data, result or logs.
    const passwordB = (await w.passwordOf(b.job)) as string;
    const visible = JSON.stringify([a.job.data, a.job.returnvalue, b.job.data, b.job.returnvalue]) + w.logs.join('');
    expect(visible).not.toContain(password);
    expect(visible).not.toContain(passwordB);
  });

  it('a create repeated after completion changes nothing and issues no password', async () => {
    const before = await findKeycloakUser(alice);
    const finished = await w.queue.getJob(`create-${alice}`);
    await finished?.remove();
    const job = await w.addCreate({ username: alice, email: emailOf(alice).toUpperCase() });
    const { state, job: done } = await waitForJob(w.queue, job.id as string);
    expect(state, done.failedReason).toBe('completed');
    expect(createJobResult.parse(done.returnvalue)).toMatchObject({ alreadyProvisioned: true, passwordIssued: false, userId: before?.id });
    expect(await w.passwordOf(done)).toBeUndefined();
    expect(await findKeycloakUser(alice)).toEqual(before);
  });

  it('refuses a username that belongs to another email, leaving that user untouched', async () => {
    const taken = uniqueUsername('t-taken');
    const ownerId = await createKeycloakUser({ username: taken, email: emailOf(taken, 'someone-else.invalid'), password: 'Owner-Pass-1234' });
    try {
      const job = await w.addCreate({ username: taken, email: emailOf(taken) });
      const { state, job: done } = await waitForJob(w.queue, job.id as string);
      expect(state).toBe('failed');
      expect(done.failedReason).toMatch(/^USERNAME_CONFLICT: /);
      expect(done.attemptsMade).toBe(1);
      const owner = await findKeycloakUser(taken);
      expect(owner).toMatchObject({ id: ownerId, email: emailOf(taken, 'someone-else.invalid') });
      expect(owner?.attributes?.['managed-by']).toBeUndefined();
      await oidcLogin(taken, 'Owner-Pass-1234'); // the owner's password still works
      expect(await getNamespace(taken)).toBeUndefined();
      expect(await findGrafanaUser(taken)).toBeUndefined();
    } finally {
      await deleteKeycloakUser(ownerId);
    }
  });

  it('delete removes everything; a second delete finds nothing and succeeds', async () => {
    const job = await w.addDelete({ usernames: [alice] });
    const { state, job: done } = await waitForJob(w.queue, job.id as string, 150_000);
    expect(state, done.failedReason).toBe('completed');
    expect(deleteJobResult.parse(done.returnvalue)).toMatchObject({ username: alice, found: true, removed: { namespace: true, keycloak: true, grafana: true } });
    expect(await findKeycloakUser(alice)).toBeUndefined();
    expect(await getNamespace(alice)).toBeUndefined();
    expect(await findGrafanaUser(alice)).toBeUndefined();
    cleanup.splice(cleanup.indexOf(alice), 1);

    const unknown = uniqueUsername('t-nobody');
    const again = await w.addDelete({ usernames: [unknown, `${unknown}-x`] });
    const second = await waitForJob(w.queue, again.id as string);
    expect(second.state, second.job.failedReason).toBe('completed');
    expect(deleteJobResult.parse(second.job.returnvalue)).toEqual({
      username: unknown,
      userId: null,
      found: false,
      removed: { namespace: false, keycloak: false, grafana: false },
    });
  });

  it('refuses to delete a namespace the provisioner does not manage', async () => {
    const job = await w.addDelete({ usernames: ['kube-system'] });
    const { state, job: done } = await waitForJob(w.queue, job.id as string);
    expect(state).toBe('failed');
    expect(done.failedReason).toMatch(/^NAMESPACE_CONFLICT: /);
    expect((await getNamespace('kube-system'))?.status?.phase).toBe('Active');
  });
});
