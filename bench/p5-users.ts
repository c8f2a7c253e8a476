// P5's users: N Keycloak users under a fixed prefix, with the attributes our managed users
// carry, made fast with Keycloak's partialImport (batches of 500, no password: no hashing)
// and kept in the realm between runs (only the missing ones are made). At rest they are
// NOT managed (`managed-by` holds an idle mark), so that no fleet run or trainee listing of
// anyone else on the shared stack pages through them; a measurement marks the first N
// managed (partialImport OVERWRITE) and marks them idle again afterwards, even when
// interrupted.
import { fetch } from 'undici';
import { MANAGED_BY } from '@kup/core';
import { deleteKeycloakUsers, keycloakUserIds } from './cleanup.js';
import { env, stackAgent } from './lib.js';

export const P5_PREFIX = 'kup-p5-';
/** `managed-by` of the cached P5 users at rest: not ours, so no fleet run or listing meets them. */
export const P5_IDLE = `${MANAGED_BY}-p5-idle`;
const BATCH = 500;

export const p5Username = (index: number): string => `${P5_PREFIX}${String(index).padStart(6, '0')}`;

/** A token of the stack's Keycloak administrator (master realm): partialImport and clearing caches need realm rights. */
export async function realmAdminToken(): Promise<string> {
  const res = await fetch(`${env('KEYCLOAK_URL')}/realms/master/protocol/openid-connect/token`, {
    method: 'POST',
    dispatcher: stackAgent(),
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'password', client_id: 'admin-cli', username: env('KEYCLOAK_ADMIN_USER'), password: env('KEYCLOAK_ADMIN_PASSWORD') }).toString(),
  });
  if (!res.ok) throw new Error(`keycloak admin token: ${res.status}`);
  return ((await res.json()) as { access_token: string }).access_token;
}

function representation(index: number, managed: boolean) {
  const username = p5Username(index);
  return {
    username,
    email: `${username}@bench.example`,
    enabled: true,
    attributes: {
      'managed-by': [managed ? MANAGED_BY : P5_IDLE],
      provisioned: ['true'],
      // Neither expired nor old: a cleanup, even a real one, leaves them alone.
      'expires-at': ['2099-01-01T00:00:00.000Z'],
      'grafana-user-id': ['none'],
    },
  };
}

async function partialImport(indexes: readonly number[], managed: boolean, policy: 'SKIP' | 'OVERWRITE'): Promise<void> {
  let token = await realmAdminToken();
  let since = Date.now();
  for (let i = 0; i < indexes.length; i += BATCH) {
    if (Date.now() - since > 30_000) {
      token = await realmAdminToken();
      since = Date.now();
    }
    const users = indexes.slice(i, i + BATCH).map((index) => representation(index, managed));
    const res = await fetch(`${env('KEYCLOAK_URL')}/admin/realms/${env('KEYCLOAK_REALM')}/partialImport`, {
      method: 'POST',
      dispatcher: stackAgent(),
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ ifResourceExists: policy, users }),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`keycloak partialImport: ${res.status} ${text.slice(0, 200)}`);
  }
}

const range = (from: number, to: number) => Array.from({ length: Math.max(0, to - from) }, (_, i) => from + i);

/** Makes the users 0…count-1 that are not in the realm yet (idle); returns how many it made. */
export async function topUp(count: number): Promise<number> {
  const present = new Set(await existingUsernames());
  const missing = range(0, count).filter((index) => !present.has(p5Username(index)));
  await partialImport(missing, false, 'SKIP');
  return missing.length;
}

async function existingUsernames(): Promise<string[]> {
  // The usernames, not the ids: they say which indexes are missing.
  const token = await realmAdminToken();
  const names: string[] = [];
  for (let first = 0; ; first += 1000) {
    const url = `${env('KEYCLOAK_URL')}/admin/realms/${env('KEYCLOAK_REALM')}/users?search=${encodeURIComponent(P5_PREFIX)}&briefRepresentation=true&first=${first}&max=1000`;
    const res = await fetch(url, { dispatcher: stackAgent(), headers: { authorization: `Bearer ${token}` } });
    if (!res.ok) throw new Error(`keycloak search: ${res.status}`);
    const page = (await res.json()) as { username: string }[];
    names.push(...page.map((user) => user.username).filter((name) => name.startsWith(P5_PREFIX)));
    if (page.length < 1000) return names;
  }
}

/** Marks users from…to-1 managed (as the provisioner leaves a trainee). */
export const markManaged = (from: number, to: number): Promise<void> => partialImport(range(from, to), true, 'OVERWRITE');

/** Marks users 0…to-1 idle again: out of every fleet run and listing. */
export const markIdle = (to: number): Promise<void> => partialImport(range(0, to), false, 'OVERWRITE');

/** `--p5-drop`: removes every cached P5 user. */
export async function dropP5Users(): Promise<number> {
  const ids = await keycloakUserIds(P5_PREFIX);
  await deleteKeycloakUsers(ids);
  return ids.length;
}
