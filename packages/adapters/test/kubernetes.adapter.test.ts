import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { FIELD_MANAGER, KubernetesClusterGateway } from '../src/kubernetes.adapter.js';
import { TimeoutError, UpstreamError, namespaceManifest, namespacedManifests, defaultPlaygroundSettings, PURGE_KEEPS, purgeCountEntries, type Trainee, type KubeObject, type ObjectRef } from '@kup/core';
import { eventually } from '../../../test/helpers/poll.js';
import { stackEnv, uniqueName } from './stack.js';

const env = stackEnv('KUBECONFIG');
const cluster = new KubernetesClusterGateway({ kubeconfig: env.KUBECONFIG, timeoutMs: 15_000 });
const namespaces: string[] = [];

afterAll(async () => {
  await Promise.all(namespaces.map((name) => cluster.deleteNamespace(name)));
});

const settings = defaultPlaygroundSettings('https://issuer.example.test/realms/playground', { NETWORK_POLICY_DEFAULT_DENY: true });

function trainee(prefix: string): Trainee {
  const username = uniqueName(prefix);
  namespaces.push(username);
  return {
    username,
    userId: '6f1c2f0e-0000-4000-8000-000000000001',
    email: `${username}@example.test`,
    createdAt: '2026-11-25T00:00:00.000Z',
    expiresAt: '2027-11-25T00:00:00.000Z',
  };
}

async function applyPlayground(who: Trainee): Promise<KubeObject[]> {
  const objects = [namespaceManifest(settings, who), ...namespacedManifests(settings, who)];
  for (const object of objects) await cluster.apply(object);
  return objects;
}

const refOf = (object: KubeObject): ObjectRef => ({
  apiVersion: object.apiVersion,
  kind: object.kind,
  name: object.metadata.name,
  ...(object.metadata.namespace ? { namespace: object.metadata.namespace } : {}),
});

function configMap(namespace: string, name: string): KubeObject {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace }, data: { hello: 'world' } };
}

async function expectUpstream(work: Promise<unknown>): Promise<UpstreamError> {
  const error = await work.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(UpstreamError);
  return error as UpstreamError;
}

describe('KubernetesClusterGateway (real apiserver)', () => {
  it('applies the trainee plan twice with the same outcome and reads it back', async () => {
    const who = trainee('k8s-plan');
    const objects = await applyPlayground(who);
    const uid = (await cluster.getNamespace(who.username))?.uid;
    await applyPlayground(who);

    const namespace = await cluster.getNamespace(who.username);
    expect(namespace).toMatchObject({
      name: who.username,
      uid,
      phase: 'Active',
      labels: { 'managed-by': 'k8s-provisioner', provisioned: 'true', 'k8s-user-provisioner/owner': who.username },
      annotations: { 'k8s-user-provisioner/email': who.email, 'k8s-user-provisioner/expires-at': who.expiresAt },
    });

    expect(objects.map((o) => o.kind)).toEqual(['Namespace', 'RoleBinding', 'ResourceQuota', 'LimitRange', 'NetworkPolicy', 'NetworkPolicy']);
    for (const object of objects) {
      const live = await cluster.get(refOf(object));
      expect(live, object.kind).toBeDefined();
      const metadata = live?.metadata as { managedFields?: { manager: string; operation: string }[] };
      expect(metadata.managedFields).toContainEqual(expect.objectContaining({ manager: FIELD_MANAGER, operation: 'Apply' }));
    }
    const quota = await cluster.get({ apiVersion: 'v1', kind: 'ResourceQuota', name: 'resource-limits', namespace: who.username });
    expect(quota?.spec).toEqual({
      hard: {
        pods: '20',
        'requests.cpu': '100m',
        'requests.memory': '2Gi',
        'limits.cpu': '500m',
        'limits.memory': '4Gi',
        'services.loadbalancers': '0',
        'services.nodeports': '0',
        persistentvolumeclaims: '5',
        'requests.storage': '10Gi',
        'requests.ephemeral-storage': '2Gi',
        'limits.ephemeral-storage': '5Gi',
        // Read back exactly as planned (the apiserver keeps `500` and `100` as written): no drift.
        ...purgeCountEntries(),
      },
    });
    const binding = await cluster.get({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', name: who.username, namespace: who.username });
    expect(binding?.subjects).toEqual([
      { apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: `https://issuer.example.test/realms/playground#${who.userId}` },
    ]);
  });

  it('works from the old deployment\'s KUBE_CONFIG: the kubeconfig as JSON in a variable', async () => {
    const json = JSON.stringify(parse(readFileSync(env.KUBECONFIG ?? '', 'utf8')));
    const fromVariable = new KubernetesClusterGateway({ kubeconfigData: json, timeoutMs: 15_000 });
    const t = trainee('k8s-kubeconfig-json');
    await fromVariable.apply(namespaceManifest(settings, t));
    expect((await cluster.getNamespace(t.username))?.name).toBe(t.username);
  });

  it('answers undefined / false for objects that do not exist', async () => {
    const ghost = uniqueName('k8s-ghost');
    expect(await cluster.getNamespace(ghost)).toBeUndefined();
    expect(await cluster.deleteNamespace(ghost)).toBe(false);
    expect(await cluster.get({ apiVersion: 'v1', kind: 'ConfigMap', name: 'x', namespace: ghost })).toBeUndefined();
    expect(await cluster.delete({ apiVersion: 'v1', kind: 'ConfigMap', name: 'x', namespace: ghost })).toBe(false);
    expect(await cluster.get({ apiVersion: 'example.test/v1', kind: 'Nothing', name: 'x', namespace: ghost })).toBeUndefined();
  });

  it('deletes one object', async () => {
    const who = trainee('k8s-del');
    await cluster.apply(namespaceManifest(settings, who));
    const ref = refOf(configMap(who.username, 'doomed'));
    await cluster.apply(configMap(who.username, 'doomed'));
    expect(await cluster.get(ref)).toBeDefined();
    expect(await cluster.delete(ref)).toBe(true);
    expect(await cluster.get(ref)).toBeUndefined();
    expect(await cluster.delete(ref)).toBe(false);
  });

  it('purges a namespace but keeps its fittings and its identity', async () => {
    const who = trainee('k8s-purge');
    await applyPlayground(who);
    const uid = (await cluster.getNamespace(who.username))?.uid;
    await cluster.apply(configMap(who.username, 'notes'));
    await cluster.apply({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'token', namespace: who.username }, stringData: { a: 'b' } });
    await cluster.apply({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'bot', namespace: who.username } });

    const types = await cluster.purgeNamespace(who.username, PURGE_KEEPS);
    expect(types).toBeGreaterThan(10);

    const gone = async (kind: string, name: string) =>
      (await cluster.get({ apiVersion: 'v1', kind, name, namespace: who.username })) === undefined;
    await eventually('purge', async () => ((await gone('ConfigMap', 'notes')) && (await gone('Secret', 'token')) && (await gone('ServiceAccount', 'bot')) ? true : undefined), 20_000);

    for (const object of namespacedManifests(settings, who)) expect(await cluster.get(refOf(object)), object.kind).toBeDefined();
    expect((await cluster.getNamespace(who.username))?.uid).toBe(uid);
    // The second purge has nothing to do and says so the same way.
    expect(await cluster.purgeNamespace(who.username, PURGE_KEEPS)).toBe(types);
  });

  it('takes a metadata-only inventory and empties only the types it names, sparing what the cluster made', async () => {
    const who = trainee('k8s-inv');
    await applyPlayground(who);
    const empty = trainee('k8s-inv-empty');
    await applyPlayground(empty);
    await cluster.apply(configMap(who.username, 'notes'));
    await cluster.apply({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'token', namespace: who.username }, stringData: { a: 'b' } });
    // What the cluster makes in every namespace (made here by hand: this stack's controllers may lag).
    for (const ns of [who.username, empty.username]) {
      await cluster.apply({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'kube-root-ca.crt', namespace: ns }, data: { 'ca.crt': 'x' } });
      await cluster.apply({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'default', namespace: ns } });
    }

    const inventory = await cluster.takeInventory(PURGE_KEEPS);
    expect(inventory.namespaces.get(who.username)).toEqual(await cluster.getNamespace(who.username));
    expect(inventory.occupied.get(who.username)).toEqual(['/api/v1/configmaps', '/api/v1/secrets']);
    expect(inventory.occupied.get(empty.username)).toBeUndefined();
    expect(inventory.unlisted).toEqual([]);
    const kept = inventory.kept.get(who.username);
    for (const object of namespacedManifests(settings, who)) {
      expect(kept?.get(`${object.kind}/${object.metadata.name}`)).toEqual({
        specHash: object.metadata.annotations?.['k8s-user-provisioner/spec-hash'],
        foreignWriter: false,
      });
    }

    expect(await cluster.purgeTypes(who.username, inventory.occupied.get(who.username) ?? [])).toBe(2);
    await eventually('purge', async () => ((await cluster.get(refOf(configMap(who.username, 'notes')))) === undefined ? true : undefined), 20_000);
    expect(await cluster.get({ apiVersion: 'v1', kind: 'Secret', name: 'token', namespace: who.username })).toBeUndefined();
    expect(await cluster.get(refOf(configMap(who.username, 'kube-root-ca.crt')))).toBeDefined();
    for (const object of namespacedManifests(settings, who)) expect(await cluster.get(refOf(object)), object.kind).toBeDefined();
    await expect(cluster.purgeTypes(who.username, ['/api/v1/../x'])).rejects.toMatchObject({ status: 400 });
  });

  it('deletes a namespace and waits until it is gone', async () => {
    const who = trainee('k8s-gone');
    await applyPlayground(who);
    await cluster.apply(configMap(who.username, 'content'));
    expect(await cluster.deleteNamespace(who.username)).toBe(true);
    // Asked again while it terminates: still a deletion under way.
    expect(await cluster.deleteNamespace(who.username)).toBe(true);
    await cluster.waitForNamespaceGone(who.username, 90_000);
    expect(await cluster.getNamespace(who.username)).toBeUndefined();
    expect(await cluster.deleteNamespace(who.username)).toBe(false);
  });

  it('gives up waiting with a retryable TimeoutError', async () => {
    const who = trainee('k8s-wait');
    await cluster.apply(namespaceManifest(settings, who));
    const error = await cluster.waitForNamespaceGone(who.username, 700).then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(TimeoutError);
    expect((error as TimeoutError).retryable).toBe(true);
  });

  it('classifies an invalid object and an unknown kind as permanent', async () => {
    const who = trainee('k8s-bad');
    await cluster.apply(namespaceManifest(settings, who));
    // (A malformed quantity is no example: the apiserver answers SSA's conversion failure with 500.)
    const invalid = await expectUpstream(
      cluster.apply({
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'RoleBinding',
        metadata: { name: 'bad', namespace: who.username },
        subjects: [{ kind: 'User', name: 'someone', apiGroup: 'rbac.authorization.k8s.io' }],
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Gadget', name: '' },
      }),
    );
    expect(invalid).toMatchObject({ system: 'kubernetes', retryable: false });
    expect(invalid.status).toBeGreaterThanOrEqual(400);
    expect(invalid.status).toBeLessThan(500);
    expect(await cluster.get({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', name: 'bad', namespace: who.username })).toBeUndefined();

    const unknown = await expectUpstream(cluster.apply({ apiVersion: 'v1', kind: 'Gizmo', metadata: { name: 'x', namespace: who.username } }));
    expect(unknown).toMatchObject({ status: 404, retryable: false });
  });

  it('honours an aborted signal', async () => {
    const error = await expectUpstream(cluster.getNamespace('default', AbortSignal.abort()));
    expect(error.retryable).toBe(true);
  });
});
