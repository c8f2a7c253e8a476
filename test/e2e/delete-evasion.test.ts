// Two ways a trainee could make `DELETE /provisioner` leave their accounts behind, attacked
// as the trainee against the stack (security review, /tmp/review/trainee-access.md):
// - finding 7: they rename their own Grafana login (Grafana's `PUT /api/user`, open to every
//   signed-in user); the delete used to look the account up by login only, found nothing,
//   and the renamed account (and its access) survived. The delete now also follows the id
//   the Keycloak user records (`GET /api/users/:id`).
// - finding 1: a pod with a 100-year termination grace keeps its namespace Terminating; the
//   delete waited for it until it timed out, before the Keycloak and Grafana steps. The
//   delete now cuts the namespace's pods' grace to 30 s once the namespace is Terminating.
import { CoreV1Api, type V1Pod } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emailOf, uniqueUsername } from '../helpers/names.js';
import { adminKubeConfig, eventually, findKeycloakUser, getNamespace, kubeStatus, stackEnv, stackFetch } from '../helpers/stack.js';
import { startService, type Service } from './service-harness.js';

const HUNDRED_YEARS = 3_153_600_000;

describe('a trainee cannot make DELETE /provisioner leave their accounts behind', () => {
  let s: Service;
  const grafanaUrl = stackEnv('GRAFANA_URL').replace(/\/+$/, '');
  const made: string[] = [];
  const cleanups: Array<() => Promise<unknown>> = [];
  const call = (method: 'POST' | 'DELETE', payload: object, wait = 60) =>
    s.api.inject({ method, url: '/provisioner', headers: { authorization: s.token, prefer: `wait=${wait}` }, payload });
  const grafanaCall = (path: string, init: { method?: string; auth: [string, string]; json?: unknown }) =>
    stackFetch(`${grafanaUrl}${path}`, {
      method: init.method ?? 'GET',
      headers: { authorization: `Basic ${Buffer.from(init.auth.join(':')).toString('base64')}`, ...(init.json === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(init.json === undefined ? {} : { body: JSON.stringify(init.json) }),
    });
  const admin = (): [string, string] => [stackEnv('GRAFANA_ADMIN_USER'), stackEnv('GRAFANA_ADMIN_PASSWORD')];

  /** A trainee made through the API and the worker; resolves to their password. */
  async function createTrainee(username: string): Promise<string> {
    made.push(username);
    const created = await call('POST', { email: emailOf(username), full_name: 'Eve Evader' }, 120);
    expect(created.statusCode, created.body).toBe(200);
    return created.json().password as string;
  }

  /** The delete as an LMS sends it, then everything gone (a 202 is followed until it is). */
  async function deleteAndExpectGone(username: string, grafanaId: number, timeoutMs: number): Promise<void> {
    const deleted = await call('DELETE', { email: emailOf(username) });
    expect([200, 202], deleted.body).toContain(deleted.statusCode);
    await eventually(`${username} gone everywhere`, async () => {
      const [user, namespace, account] = await Promise.all([findKeycloakUser(username), getNamespace(username), grafanaCall(`/api/users/${grafanaId}`, { auth: admin() })]);
      await account.arrayBuffer();
      return user === undefined && namespace === undefined && account.status === 404 ? true : undefined;
    }, timeoutMs, 1_000);
  }

  beforeAll(async () => {
    s = await startService({ workerEnv: { NAMESPACE_DELETE_TIMEOUT_SECONDS: '150' } });
  }, 60_000);

  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
    for (const username of made) await call('DELETE', { email: emailOf(username) }).catch(() => undefined);
    await s?.close();
  }, 180_000);

  it('finding 7: a Grafana login renamed by its trainee is still deleted, found by the recorded id', async () => {
    const username = uniqueUsername('t-evade');
    const password = await createTrainee(username);

    // As the trainee, with their own password: who am I, then a new login.
    const me = await grafanaCall('/api/user', { auth: [username, password] });
    expect(me.status).toBe(200);
    const { id } = (await me.json()) as { id: number };
    expect((await findKeycloakUser(username))?.attributes?.['grafana-user-id']).toEqual([String(id)]);
    const hidden = `${username}-hidden`;
    const renamed = await grafanaCall('/api/user', { method: 'PUT', auth: [username, password], json: { login: hidden, email: emailOf(username), name: 'Eve' } });
    expect(renamed.status, await renamed.text()).toBe(200);
    // The login leads nowhere now: the delete's old lookup would have found nothing.
    const byLogin = await grafanaCall(`/api/users/lookup?loginOrEmail=${encodeURIComponent(username)}`, { auth: admin() });
    expect(byLogin.status).toBe(404);
    expect((await grafanaCall('/api/user', { auth: [hidden, password] })).status).toBe(200);

    await deleteAndExpectGone(username, id, 90_000);
    expect((await grafanaCall('/api/user', { auth: [hidden, password] })).status).toBe(401);
  }, 240_000);

  it('finding 1: a pod holding 100 years of grace does not keep the namespace, nor the accounts, alive', async () => {
    const username = uniqueUsername('t-linger');
    const password = await createTrainee(username);
    const me = await grafanaCall('/api/user', { auth: [username, password] });
    const { id } = (await me.json()) as { id: number };

    // The platform's part (admin): a Node object, and the trainee's pod bound to it. The stack
    // has no kubelet and no pod GC, so a bound pod being deleted stays until someone removes
    // it with grace 0: the kubelet stand-in below does, as a kubelet does once the grace ends.
    const core = adminKubeConfig().makeApiClient(CoreV1Api);
    const node = `${username}-node`;
    await core.createNode({ body: { metadata: { name: node, labels: { 'k8s-user-provisioner.test/fake': 'true' } } } });
    cleanups.push(() => core.deleteNode({ name: node }));
    const pod: V1Pod = {
      metadata: { name: 'linger' },
      spec: { nodeName: node, terminationGracePeriodSeconds: HUNDRED_YEARS, containers: [{ name: 'c', image: 'busybox', command: ['sh', '-c', "trap '' TERM; sleep infinity"] }] },
    };
    await core.createNamespacedPod({ namespace: username, body: pod });
    cleanups.push(() => core.deleteNamespacedPod({ name: 'linger', namespace: username, gracePeriodSeconds: 0 }).catch((e: unknown) => (kubeStatus(e) === 404 ? undefined : Promise.reject(e))));

    // The trainee deletes it first, asking for the 100 years (its spec's grace): the state the
    // review found, Terminating until 2126.
    await core.deleteNamespacedPod({ name: 'linger', namespace: username });
    const terminating = await core.readNamespacedPod({ name: 'linger', namespace: username });
    expect(terminating.metadata?.deletionGracePeriodSeconds).toBe(HUNDRED_YEARS);
    expect(new Date(terminating.metadata?.deletionTimestamp as Date).getTime()).toBeGreaterThan(Date.now() + 50 * 365 * 86_400_000);

    const kubelet = kubeletStandIn(core, username, node);
    cleanups.push(() => kubelet.stop());
    const started = Date.now();
    await deleteAndExpectGone(username, id, 150_000);
    // The delete cut the 100 years to 30 s, and the pod went when those ended.
    expect(kubelet.graces).toEqual([HUNDRED_YEARS, 30]);
    expect(Date.now() - started).toBeLessThan(120_000);
  }, 300_000);
});

/**
 * What a node's kubelet does with a pod bound to it that is being deleted: it stops the
 * containers within the pod's grace period, then removes the pod for good (a delete with
 * grace 0, on the pod's UID). Never before the deletionTimestamp, which is when the grace
 * period ends: a pod granted 100 years stays 100 years here, as on a real node. Records
 * every grace period it saw.
 */
function kubeletStandIn(core: CoreV1Api, namespace: string, node: string): { graces: number[]; stop: () => Promise<void> } {
  const graces: number[] = [];
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const pods = await core.listNamespacedPod({ namespace, fieldSelector: `spec.nodeName=${node}` }).catch(() => undefined);
      for (const pod of pods?.items ?? []) {
        const { name, uid, deletionTimestamp, deletionGracePeriodSeconds } = pod.metadata ?? {};
        if (!name || !deletionTimestamp) continue;
        if (deletionGracePeriodSeconds !== undefined && !graces.includes(deletionGracePeriodSeconds)) graces.push(deletionGracePeriodSeconds);
        if (new Date(deletionTimestamp).getTime() > Date.now()) continue;
        // In the body: with a body, the apiserver reads the options from it alone, not the query.
        await core.deleteNamespacedPod({ name, namespace, body: { gracePeriodSeconds: 0, preconditions: { uid } } }).catch(() => undefined);
      }
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  })();
  return {
    graces,
    stop: async () => {
      stopped = true;
      await loop;
    },
  };
}
