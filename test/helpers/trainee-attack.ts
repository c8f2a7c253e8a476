// A trainee's own session on the stack for attack tests: a playground made by the worker,
// the trainee policies bound to it, and API clients logged in as the trainee through OIDC
// with the password the worker issued. Plus the small builders those tests share.
import {
  AppsV1Api, BatchV1Api, CoreV1Api, NetworkingV1Api, PatchStrategy, PolicyV1Api, setHeaderOptions,
  type V1PersistentVolumeClaimSpec, type V1Pod, type V1PodSpec,
} from '@kubernetes/client-node';
import { expect } from 'vitest';
import { emailOf } from './names.js';
import { kubeConfigForToken, oidcLogin } from './oidc.js';
import { adminKubeConfig, ensureTraineeClusterRole, eventually } from './stack.js';
import { applyTraineePolicy, type AppliedTraineePolicy } from './trainee-policy.js';
import { testWorker, waitForJob, type TestWorker } from './worker.js';

export const TRAINEE_DOMAIN = 'apps.kup.test';
export const CENTURY = 3_153_600_000; // 100 years, in seconds

/** The HTTP status and message of a call: 201 when it went through. */
export async function attempt(call: () => Promise<unknown>): Promise<{ status: number; message: string }> {
  try {
    await call();
    return { status: 201, message: '' };
  } catch (error) {
    const { code, body } = error as { code?: number; body?: unknown };
    if (typeof code !== 'number') throw error;
    const status = (typeof body === 'string' ? JSON.parse(body) : body) as { message?: string } | undefined;
    return { status: code, message: status?.message ?? String(body) };
  }
}

export const container = { name: 'c', image: 'nginx:1.27' };
export const pod = (name: string, spec: Partial<V1PodSpec> = {}, c: object = {}): V1Pod => ({
  metadata: { name },
  spec: { containers: [{ ...container, ...c }], ...spec },
});
export const slug = (what: string): string => what.replace(/\W+/g, '-').toLowerCase().replace(/^-|-$/g, '').slice(0, 50);
export const claim = (extra: Partial<V1PersistentVolumeClaimSpec> = {}): V1PersistentVolumeClaimSpec => ({
  accessModes: ['ReadWriteOnce'],
  resources: { requests: { storage: '1Gi' } },
  ...extra,
});

export interface TraineeSession {
  trainee: string;
  policy: AppliedTraineePolicy;
  core: CoreV1Api;
  net: NetworkingV1Api;
  apps: AppsV1Api;
  batch: BatchV1Api;
  pdbs: PolicyV1Api;
  /** The stack's admin, playing the platform (and the kubelet the stack lacks). */
  adminCore: CoreV1Api;
  close(): Promise<void>;
}

/** A provisioned trainee, logged in, with the trainee policies in effect in their namespace. */
export async function openTraineeSession(trainee: string): Promise<TraineeSession> {
  const adminCore = adminKubeConfig().makeApiClient(CoreV1Api);
  await ensureTraineeClusterRole();
  const w: TestWorker = await testWorker({ overrides: { TRAINEE_INGRESS_DOMAIN: TRAINEE_DOMAIN } });
  const policy = await applyTraineePolicy([trainee]);
  const job = await w.addCreate({ username: trainee, email: emailOf(trainee) });
  const { state, job: done } = await waitForJob(w.queue, job.id as string);
  expect(state, done.failedReason).toBe('completed');
  const { idToken } = await oidcLogin(trainee, (await w.passwordOf(done)) as string);
  const kc = kubeConfigForToken(idToken);
  const core = kc.makeApiClient(CoreV1Api);
  // Pods need the default ServiceAccount, and quota admission a quota the controller counted.
  await eventually('default ServiceAccount and counted quota', async () => {
    const sa = await adminCore.readNamespacedServiceAccount({ name: 'default', namespace: trainee }).catch(() => undefined);
    const quota = await adminCore.readNamespacedResourceQuota({ name: 'resource-limits', namespace: trainee });
    return sa && quota.status?.hard ? true : undefined;
  }, 60_000);
  // Admission policies load asynchronously: wait until this one refuses (dry runs change nothing).
  await eventually('trainee policy in effect', async () => {
    const res = await attempt(() =>
      core.createNamespacedPod({ namespace: trainee, body: pod('probe', { terminationGracePeriodSeconds: CENTURY }), dryRun: 'All' }));
    return res.status === 403 && res.message.includes(policy.name) ? true : undefined;
  }, 30_000);

  const close = async () => {
    // No kubelet finishes a graceful delete and no controller removes PVC protection on the
    // stack: do both as admin, or the namespace would never go.
    await adminCore.deleteCollectionNamespacedPod({ namespace: trainee, gracePeriodSeconds: 0 }).catch(() => undefined);
    const claims = await adminCore.listNamespacedPersistentVolumeClaim({ namespace: trainee }).catch(() => undefined);
    for (const c of claims?.items ?? []) {
      await adminCore.patchNamespacedPersistentVolumeClaim(
        { name: c.metadata?.name as string, namespace: trainee, body: { metadata: { finalizers: null } } },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      ).catch(() => undefined);
    }
    await policy.remove();
    const removal = await w.addDelete({ usernames: [trainee] }).catch(() => undefined);
    if (removal?.id) await waitForJob(w.queue, removal.id, 150_000).catch(() => undefined);
    await w.close();
  };
  return {
    trainee, policy, core, adminCore, close,
    net: kc.makeApiClient(NetworkingV1Api), apps: kc.makeApiClient(AppsV1Api), batch: kc.makeApiClient(BatchV1Api), pdbs: kc.makeApiClient(PolicyV1Api),
  };
}
