// P2 end-to-end creates: trainees fully provisioned per second (POST /provisioner through
// the API, a worker process, Keycloak + Kubernetes + Grafana) vs Keycloak alone creating
// users with a password (admin REST, same realm, same concurrency as the worker).
// Everything created is deleted afterwards (trainees through the API, users directly).
import { fetch } from 'undici';
import { dropPrefix, env, eventually, freePort, pool, round, stackAgent, startChild } from './lib.js';

export interface CreateFigures {
  creates: number;
  concurrency: number;
  e2ePerSecond: number;
  keycloakPerSecond: number;
  failed: number;
}

async function adminToken(): Promise<string> {
  const res = await fetch(`${env('KEYCLOAK_URL')}/realms/${env('KEYCLOAK_REALM')}/protocol/openid-connect/token`, {
    method: 'POST',
    dispatcher: stackAgent(),
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'client_credentials', client_id: env('KEYCLOAK_CLIENT_ID'), client_secret: env('KEYCLOAK_CLIENT_SECRET') }).toString(),
  });
  if (!res.ok) throw new Error(`keycloak token: ${res.status}`);
  return ((await res.json()) as { access_token: string }).access_token;
}

const admin = (path: string) => `${env('KEYCLOAK_URL')}/admin/realms/${env('KEYCLOAK_REALM')}${path}`;

/** Keycloak alone: create `count` users with a password, `concurrency` at a time; returns users/s and the ids. */
async function keycloakOnly(tag: string, count: number, concurrency: number): Promise<{ perSecond: number; ids: string[] }> {
  const token = await adminToken();
  const ids: string[] = [];
  const started = performance.now();
  await pool(Array.from({ length: count }, (_, i) => `${tag}-kc-${i}`), concurrency, async (username) => {
    const res = await fetch(admin('/users'), {
      method: 'POST',
      dispatcher: stackAgent(),
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        username,
        email: `${username}@bench.example`,
        enabled: true,
        attributes: { 'managed-by': ['k8s-provisioner-bench'] },
        credentials: [{ type: 'password', value: `Bench-${username}-9x!`, temporary: false }],
      }),
    });
    if (res.status !== 201) throw new Error(`keycloak create ${username}: ${res.status}`);
    ids.push(String(res.headers.get('location')).split('/').pop() as string);
  });
  const perSecond = count / ((performance.now() - started) / 1000);
  await pool(ids, 4, async (id) => {
    await fetch(admin(`/users/${id}`), { method: 'DELETE', dispatcher: stackAgent(), headers: { authorization: `Bearer ${token}` } });
  });
  return { perSecond, ids };
}

export async function benchCreates(tag: string, count: number, concurrency: number): Promise<CreateFigures> {
  const prefix = `bench-p2-${tag}`;
  const token = env('API_TOKENS').split(',')[0] as string;
  const apiPort = await freePort();
  const base = `http://127.0.0.1:${apiPort}`;
  const api = await startChild('apps/api/dist/main.js', { PORT: String(apiPort), HOST: '127.0.0.1', QUEUE_PREFIX: prefix }, /listening/i, 'p2-api');
  const worker = await startChild('apps/worker/dist/main.js', { QUEUE_PREFIX: prefix, WORKER_CONCURRENCY: String(concurrency), WORKER_HEALTH_PORT: '0' }, /worker started/, 'p2-worker');
  const usernames = Array.from({ length: count }, (_, i) => `${tag}-e2e-${i}`);
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${base}${path}`, { method, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, ...(body ? { body: JSON.stringify(body) } : {}) });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  const finished = (verb: 'create' | 'delete') =>
    eventually(`all ${verb}s finished`, async () => {
      let failed = 0;
      for (const username of usernames) {
        const { body } = await call('GET', `/jobs/${verb}-${username}`);
        if (body.state === 'failed') failed += 1;
        else if (body.state !== 'completed') return undefined;
      }
      return failed;
    }, Math.max(600_000, count * 20_000), 500);

  try {
    const started = performance.now();
    for (const username of usernames) {
      const { status } = await call('POST', '/provisioner', { email: `${username}@bench.example` });
      if (status !== 202) throw new Error(`create ${username}: ${status}`);
    }
    const failed = await finished('create');
    const e2ePerSecond = count / ((performance.now() - started) / 1000);

    const keycloak = await keycloakOnly(tag, count, concurrency);

    for (const username of usernames) await call('DELETE', '/provisioner', { email: `${username}@bench.example` });
    await finished('delete');
    return { creates: count, concurrency, e2ePerSecond: round(e2ePerSecond, 2), keycloakPerSecond: round(keycloak.perSecond, 2), failed };
  } finally {
    await worker.stop();
    await api.stop();
    await dropPrefix(prefix);
  }
}
