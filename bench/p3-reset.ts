// P3 reset: N trainee namespaces (made directly, each with ConfigMaps to purge, each with
// a provisioned Keycloak user so the fleet run finds it) emptied by the old algorithm,
// then filled again and emptied by `POST /reset {mode: purge}` (the same work: empty in
// place, keep quota and RBAC), run as a fleet flow by a worker process. Both on the same
// apiserver; the run is scoped to the bench's users with `usernamePrefix`.
import { fetch } from 'undici';
import { LABELS, MANAGED_BY } from '@kup/core';
import { KubeRaw, oldReset } from './old-reset.js';
import { dropPrefix, env, eventually, freePort, pool, round, stackAgent, startChild } from './lib.js';

export interface ResetFigures {
  namespaces: number;
  oldSeconds: number;
  oldRequests: number;
  newSeconds: number;
  newResult: unknown;
}

const CONFIGMAPS_PER_NAMESPACE = 2;

async function keycloakToken(): Promise<string> {
  const res = await fetch(`${env('KEYCLOAK_URL')}/realms/${env('KEYCLOAK_REALM')}/protocol/openid-connect/token`, {
    method: 'POST',
    dispatcher: stackAgent(),
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'client_credentials', client_id: env('KEYCLOAK_CLIENT_ID'), client_secret: env('KEYCLOAK_CLIENT_SECRET') }).toString(),
  });
  return ((await res.json()) as { access_token: string }).access_token;
}

async function keycloak(method: string, path: string, token: string, body?: unknown) {
  return fetch(`${env('KEYCLOAK_URL')}/admin/realms/${env('KEYCLOAK_REALM')}${path}`, {
    method,
    dispatcher: stackAgent(),
    headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
}

async function fillConfigMaps(kube: KubeRaw, names: readonly string[]): Promise<void> {
  await pool(names, 8, async (ns) => {
    for (let i = 0; i < CONFIGMAPS_PER_NAMESPACE; i += 1) {
      const { status } = await kube.send('POST', `/api/v1/namespaces/${ns}/configmaps`, { metadata: { name: `bench-${i}` }, data: { a: 'b' } });
      if (status !== 201 && status !== 409) throw new Error(`configmap in ${ns}: ${status}`);
    }
  });
}

export async function benchReset(tag: string, count: number, log: (line: string) => void): Promise<ResetFigures> {
  const kube = new KubeRaw(env('KUBECONFIG'));
  const names = Array.from({ length: count }, (_, i) => `${tag}-r-${i}`);
  const userIds: string[] = [];
  const prefix = `bench-p3-${tag}`;
  let token = await keycloakToken();
  try {
    log(`  setting up ${count} namespaces and provisioned Keycloak users…`);
    await pool(names, 8, async (name) => {
      const ns = await kube.send('POST', '/api/v1/namespaces', {
        metadata: { name, labels: { [LABELS.managedBy]: MANAGED_BY, [LABELS.provisioned]: 'true', [LABELS.owner]: name } },
      });
      if (ns.status !== 201 && ns.status !== 409) throw new Error(`namespace ${name}: ${ns.status}`);
      const res = await keycloak('POST', '/users', token, {
        username: name,
        email: `${name}@bench.example`,
        enabled: true,
        attributes: { 'managed-by': [MANAGED_BY], provisioned: ['true'] },
      });
      if (res.status === 401) token = await keycloakToken();
      if (res.status !== 201) throw new Error(`keycloak user ${name}: ${res.status}`);
      userIds.push(String(res.headers.get('location')).split('/').pop() as string);
    });
    await fillConfigMaps(kube, names);

    log('  old algorithm…');
    let started = performance.now();
    const oldRequests = await oldReset(kube, names);
    const oldSeconds = (performance.now() - started) / 1000;

    await fillConfigMaps(kube, names);
    log('  POST /reset {mode: purge}…');
    const apiPort = await freePort();
    const api = await startChild('apps/api/dist/main.js', { PORT: String(apiPort), HOST: '127.0.0.1', QUEUE_PREFIX: prefix }, /listening/i, 'p3-api');
    const worker = await startChild('apps/worker/dist/main.js', { QUEUE_PREFIX: prefix, WORKER_HEALTH_PORT: '0', RESET_SCHEDULE_ENABLED: 'false', CLEANUP_SCHEDULE_ENABLED: 'false' }, /worker started/, 'p3-worker');
    try {
      const apiToken = env('API_TOKENS').split(',')[0] as string;
      const headers = { authorization: `Bearer ${apiToken}`, 'content-type': 'application/json' };
      started = performance.now();
      const res = await fetch(`http://127.0.0.1:${apiPort}/reset`, { method: 'POST', headers, body: JSON.stringify({ mode: 'purge', usernamePrefix: `${tag}-r-` }) });
      const { jobId } = (await res.json()) as { jobId: string };
      if (res.status !== 202) throw new Error(`POST /reset: ${res.status}`);
      const view = await eventually('reset finished', async () => {
        const status = (await (await fetch(`http://127.0.0.1:${apiPort}/jobs/${jobId}`, { headers })).json()) as { state: string; result?: unknown; error?: unknown };
        return status.state === 'completed' || status.state === 'failed' ? status : undefined;
      }, 3_600_000, 250);
      const newSeconds = (performance.now() - started) / 1000;
      if (view.state !== 'completed') throw new Error(`reset ${view.state}: ${JSON.stringify(view.error)}`);
      const left = await kube.send('GET', `/api/v1/configmaps?labelSelector=&fieldSelector=metadata.name=bench-0`);
      const remaining = ((left.json as { items: { metadata: { namespace: string } }[] }).items ?? []).filter((cm) => cm.metadata.namespace.startsWith(`${tag}-r-`)).length;
      if (remaining > 0) throw new Error(`the reset left ${remaining} ConfigMaps`);
      const { users_processed: processed, namespaces_reset: reset, failed_resets: failed } = (view.result ?? {}) as Record<string, unknown>;
      return { namespaces: count, oldSeconds: round(oldSeconds, 2), oldRequests, newSeconds: round(newSeconds, 2), newResult: { users_processed: processed, namespaces_reset: reset, failed_resets: Array.isArray(failed) ? failed.length : failed } };
    } finally {
      await worker.stop();
      await api.stop();
      await dropPrefix(prefix);
    }
  } finally {
    log('  cleaning up…');
    token = await keycloakToken();
    await pool(userIds, 8, async (id) => void (await keycloak('DELETE', `/users/${id}`, token)));
    await pool(names, 8, async (name) => void (await kube.send('DELETE', `/api/v1/namespaces/${name}`)));
    kube.close();
  }
}
