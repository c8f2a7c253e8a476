import {
  AuthenticationV1Api, CoreV1Api, KubeConfig, RbacAuthorizationV1Api,
} from '@kubernetes/client-node';
import { afterAll, describe, expect, it } from 'vitest';
import {
  adminUrl, createUser, deleteUser, env, eventually, jwtPayload, provisionerToken, realmUrl, request, unique,
} from './helpers.js';

const statusOf = (error: unknown): number | undefined => (error as { code?: number }).code;

describe('stack: OIDC from Keycloak to kube-apiserver', () => {
  const admin = new KubeConfig();
  admin.loadFromFile(env('KUBECONFIG'));
  const adminCore = admin.makeApiClient(CoreV1Api);
  const adminRbac = admin.makeApiClient(RbacAuthorizationV1Api);

  /** A kubeconfig that authenticates with a bearer token (the id_token). */
  function asToken(token: string): KubeConfig {
    const cluster = admin.getCurrentCluster();
    if (!cluster) throw new Error('admin kubeconfig has no cluster');
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [cluster],
      users: [{ name: 'trainee', token }],
      contexts: [{ name: 'trainee', cluster: cluster.name, user: 'trainee' }],
      currentContext: 'trainee',
    });
    return kc;
  }

  const namespaces: string[] = [];
  let userId: string | undefined;
  let groupId: string | undefined;
  afterAll(async () => {
    for (const name of namespaces) await adminCore.deleteNamespace({ name }).catch(() => undefined);
    const token = await provisionerToken();
    if (userId) await deleteUser(token, userId);
    if (groupId) await request(adminUrl(`/groups/${groupId}`), { method: 'DELETE', token });
  });

  it("accepts a trainee's id_token as <issuer>#<user id> with oidc: groups, and RBAC applies", async () => {
    const token = await provisionerToken();
    const username = unique('kup-stack-trainee');
    const password = `Pw-${unique('x')}-9`;
    userId = await createUser(token, {
      username,
      enabled: true,
      email: `${username}@example.invalid`,
      emailVerified: true,
      firstName: 'Stack',
      lastName: 'Trainee',
      credentials: [{ type: 'password', value: password, temporary: false }],
    });
    const groupName = unique('kup-stack-trainees');
    const group = await request(adminUrl('/groups'), { method: 'POST', token, json: { name: groupName } });
    expect(group.status).toBe(201);
    groupId = String(group.headers.location).split('/').pop();
    expect((await request(adminUrl(`/users/${userId}/groups/${groupId}`), { method: 'PUT', token })).status).toBe(204);

    // The trainee logs in with their password through the public client.
    const login = await request(`${realmUrl()}/protocol/openid-connect/token`, {
      method: 'POST',
      form: { grant_type: 'password', client_id: env('KEYCLOAK_LOGIN_CLIENT_ID'), username, password, scope: 'openid' },
    });
    expect(login.status, login.body).toBe(200);
    const idToken = (JSON.parse(login.body) as { id_token: string }).id_token;
    const claims = jwtPayload(idToken);
    expect(claims.iss).toBe(env('OIDC_ISSUER_URL'));
    expect(claims.sub).toBe(userId);
    expect([claims.aud].flat()).toContain(env('KEYCLOAK_LOGIN_CLIENT_ID'));
    expect(claims.groups).toEqual([groupName]);

    const expectedUser = `${env('OIDC_ISSUER_URL')}#${userId}`;
    const trainee = asToken(idToken);
    const review = await trainee.makeApiClient(AuthenticationV1Api).createSelfSubjectReview({
      body: { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' },
    });
    expect(review.status?.userInfo?.username).toBe(expectedUser);
    expect(review.status?.userInfo?.groups).toContain(`oidc:${groupName}`);

    // RBAC: edit in its own namespace, nothing in another one.
    const own = unique('kup-stack-oidc-own');
    const other = unique('kup-stack-oidc-other');
    namespaces.push(own, other);
    for (const name of [own, other]) await adminCore.createNamespace({ body: { metadata: { name } } });
    await adminRbac.createNamespacedRoleBinding({
      namespace: own,
      body: {
        metadata: { name: 'trainee-edit' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'edit' },
        subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: expectedUser }],
      },
    });
    const traineeCore = trainee.makeApiClient(CoreV1Api);
    const configMap = { metadata: { name: 'hello' }, data: { hello: 'world' } };
    await eventually('trainee may create a ConfigMap in its namespace', async () => {
      await traineeCore.createNamespacedConfigMap({ namespace: own, body: configMap });
      return true;
    });
    const read = await traineeCore.readNamespacedConfigMap({ name: 'hello', namespace: own });
    expect(read.data).toEqual({ hello: 'world' });

    const forbidden = await traineeCore
      .createNamespacedConfigMap({ namespace: other, body: configMap })
      .then(() => 'created', statusOf);
    expect(forbidden).toBe(403);

    // A tampered token is rejected outright.
    const [header, payload, signature = ''] = idToken.split('.');
    const flipped = (signature[0] === 'A' ? 'B' : 'A') + signature.slice(1);
    const tampered = asToken(`${header}.${payload}.${flipped}`);
    const rejected = await tampered
      .makeApiClient(CoreV1Api)
      .listNamespacedConfigMap({ namespace: own })
      .then(() => 'listed', statusOf);
    expect(rejected).toBe(401);
  });
});
