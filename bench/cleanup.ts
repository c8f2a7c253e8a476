// What a bench run made must go even when the run is interrupted: each part registers its
// clean-up while it works, and SIGINT/SIGTERM run the registered ones (newest first) before
// the bench exits. The last resort, `sweepTag`, removes everything named after the run's
// tag (Keycloak users, namespaces, Grafana users, Redis prefixes), whether or not the part
// that made it got to record it.
import { fetch } from 'undici';
import { KubeRaw } from './old-reset.js';
import { dropPrefix, env, keycloakAdminToken, liveChildren, pool, stackAgent } from './lib.js';

type Cleanup = () => Promise<void>;
const registered: Cleanup[] = [];

/**
 * Runs `work`, then `cleanup`; on SIGINT/SIGTERM meanwhile, `cleanup` runs from the signal
 * handler instead (once either way).
 */
export async function withCleanup<T>(cleanup: Cleanup, work: () => Promise<T>): Promise<T> {
  let ran: Promise<void> | undefined;
  const once: Cleanup = () => (ran ??= cleanup());
  registered.push(once);
  try {
    return await work();
  } finally {
    registered.splice(registered.indexOf(once), 1);
    await once();
  }
}

/**
 * Installs the SIGINT/SIGTERM handlers: they stop the servers the bench started (so that no
 * worker makes more), run the registered clean-ups, then `last` (the sweep of the run's tag).
 * A second signal exits at once.
 */
export function cleanUpOnSignals(log: (line: string) => void, last: Cleanup): void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) process.exit(130);
    stopping = true;
    log(`${signal}: cleaning up what this run made (send it again to exit at once)…`);
    const report = (error: unknown) => log(`  clean-up failed: ${error instanceof Error ? error.message : String(error)}`);
    void (async () => {
      await Promise.all([...liveChildren].map((child) => child.stop().catch(report)));
      for (const cleanup of [...registered].reverse()) await cleanup().catch(report);
      await last().catch(report);
      process.exit(130);
    })();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}

/** Keycloak users whose username starts with `prefix` (Keycloak's search is a substring match: filtered here). */
export async function keycloakUserIds(prefix: string, token?: string): Promise<string[]> {
  const bearer = token ?? (await keycloakAdminToken());
  const ids: string[] = [];
  for (let first = 0; ; first += 1000) {
    const url = `${env('KEYCLOAK_URL')}/admin/realms/${env('KEYCLOAK_REALM')}/users?search=${encodeURIComponent(prefix)}&briefRepresentation=true&first=${first}&max=1000`;
    const res = await fetch(url, { dispatcher: stackAgent(), headers: { authorization: `Bearer ${bearer}` } });
    if (!res.ok) throw new Error(`keycloak search ${prefix}: ${res.status}`);
    const page = (await res.json()) as { id: string; username: string }[];
    ids.push(...page.filter((user) => user.username.startsWith(prefix)).map((user) => user.id));
    if (page.length < 1000) return ids;
  }
}

/** Deletes Keycloak users by id, a few at a time, fetching a fresh token now and then (they last minutes). */
export async function deleteKeycloakUsers(ids: readonly string[]): Promise<void> {
  let token = await keycloakAdminToken();
  let since = Date.now();
  await pool(ids, 8, async (id) => {
    if (Date.now() - since > 30_000) {
      since = Date.now();
      token = await keycloakAdminToken();
    }
    const res = await fetch(`${env('KEYCLOAK_URL')}/admin/realms/${env('KEYCLOAK_REALM')}/users/${id}`, { method: 'DELETE', dispatcher: stackAgent(), headers: { authorization: `Bearer ${token}` } });
    await res.body?.cancel();
  });
}

/** Grafana users whose login starts with `prefix` (the stack's Grafana: its one org's users, admin basic auth). */
async function deleteGrafanaUsers(prefix: string): Promise<void> {
  const base = env('GRAFANA_URL');
  const authorization = `Basic ${Buffer.from(`${env('GRAFANA_ADMIN_USER')}:${env('GRAFANA_ADMIN_PASSWORD')}`).toString('base64')}`;
  const res = await fetch(`${base}/api/orgs/1/users`, { headers: { authorization } });
  if (!res.ok) throw new Error(`grafana org users: ${res.status}`);
  const users = (await res.json()) as { userId: number; login: string }[];
  await pool(users.filter((user) => user.login.startsWith(prefix)), 4, async (user) => {
    const gone = await fetch(`${base}/api/admin/users/${user.userId}`, { method: 'DELETE', headers: { authorization } });
    await gone.body?.cancel();
  });
}

/** Namespaces whose name starts with `prefix`: deleted (their contents go with them). */
async function deleteNamespaces(prefix: string): Promise<void> {
  const kube = new KubeRaw(env('KUBECONFIG'));
  try {
    const { json } = await kube.send('GET', '/api/v1/namespaces');
    const names = ((json as { items?: { metadata: { name: string } }[] }).items ?? []).map((ns) => ns.metadata.name).filter((name) => name.startsWith(prefix));
    await pool(names, 8, async (name) => void (await kube.send('DELETE', `/api/v1/namespaces/${name}`)));
  } finally {
    kube.close();
  }
}

/** Removes everything named `<tag>-…` on the stack, and the Redis keys under `bench-p<n>-<tag>`. */
export async function sweepTag(tag: string): Promise<void> {
  const prefix = `${tag}-`;
  await deleteKeycloakUsers(await keycloakUserIds(prefix));
  await deleteNamespaces(prefix);
  await deleteGrafanaUsers(prefix);
  for (const prefix of ['p1', 'p2', 'p3', 'p4', 'p5'].map((part) => `bench-${part}-${tag}`)) await dropPrefix(prefix);
  await dropPrefix(`bench-p1-${tag}-q`);
}
