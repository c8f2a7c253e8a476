// A trainee's view of the stack: log in with the password, act with the token.
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { adminKubeConfig, stackEnv, stackFetch } from './stack.js';

/** Keycloak password grant through the public login client; the id_token is what the apiserver accepts. */
export async function oidcLogin(username: string, password: string): Promise<{ idToken: string; accessToken: string }> {
  const url = `${stackEnv('KEYCLOAK_URL').replace(/\/+$/, '')}/realms/${stackEnv('KEYCLOAK_REALM')}/protocol/openid-connect/token`;
  const response = await stackFetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'password', client_id: stackEnv('KEYCLOAK_LOGIN_CLIENT_ID'), username, password, scope: 'openid' }).toString(),
  });
  const body = (await response.json().catch(() => ({}))) as { id_token?: string; access_token?: string; error?: string };
  if (!response.ok || !body.id_token || !body.access_token) throw new Error(`login of ${username} refused: ${response.status} ${body.error ?? ''}`);
  return { idToken: body.id_token, accessToken: body.access_token };
}

/** A KubeConfig for the stack's apiserver that authenticates with a bearer token. */
export function kubeConfigForToken(token: string): KubeConfig {
  const cluster = adminKubeConfig().getCurrentCluster();
  if (!cluster) throw new Error('the admin kubeconfig has no cluster');
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [cluster],
    users: [{ name: 'trainee', token }],
    contexts: [{ name: 'trainee', cluster: cluster.name, user: 'trainee' }],
    currentContext: 'trainee',
  });
  return kc;
}

/** Creates a ConfigMap as the token's user; resolves to the HTTP status (201, 403, …). */
export async function createConfigMapAs(token: string, namespace: string, name: string): Promise<number> {
  const core = kubeConfigForToken(token).makeApiClient(CoreV1Api);
  try {
    await core.createNamespacedConfigMap({ namespace, body: { metadata: { name }, data: { hello: 'world' } } });
    return 201;
  } catch (error) {
    const code = (error as { code?: number }).code;
    if (typeof code === 'number') return code;
    throw error;
  }
}

/** `GET /api/user` with the trainee's own basic auth: 200 when the password works in Grafana. */
export async function grafanaLoginStatus(login: string, password: string): Promise<number> {
  const auth = Buffer.from(`${login}:${password}`).toString('base64');
  const response = await stackFetch(`${stackEnv('GRAFANA_URL').replace(/\/+$/, '')}/api/user`, { headers: { authorization: `Basic ${auth}` } });
  await response.arrayBuffer();
  return response.status;
}
