// P5's users live in two realms of their own, one per size, made once and kept between runs
// (only what is missing is made): both hold the same `large` users under a fixed prefix,
// with the attributes our managed users carry; in the small size's realm only the first
// `small` are managed (the rest carry an idle mark), in the large size's all are. So both
// sizes are measured in realms of one size, a measurement changes no user, and the runs of
// the two sizes can take turns. The stack's own realm never sees them. Users are made with
// Keycloak's partialImport (batches of 500, no password: no hashing).
import { fetch } from 'undici';
import { MANAGED_BY } from '@kup/core';
import { realmRepresentation } from '../tools/stack/src/keycloak-realm.js';
import type { StackContext } from '../tools/stack/src/server.js';
import { deleteKeycloakUsers, keycloakUserIds } from './cleanup.js';
import { env, stackAgent } from './lib.js';

export const P5_PREFIX = 'kup-p5-';
/** `managed-by` of the users a realm holds beyond the size measured in it: not ours. */
export const P5_IDLE = `${MANAGED_BY}-p5-idle`;
const BATCH = 500;

export const p5Username = (index: number): string => `${P5_PREFIX}${String(index).padStart(6, '0')}`;

/** A P5 realm: `users` users, the first `managed` of them managed. Its name says both. */
export interface P5Realm {
  name: string;
  users: number;
  managed: number;
}

export const p5Realm = (managed: number, users: number): P5Realm => ({ name: `kup-p5-${managed}-of-${users}`, users, managed });

/** A token of the stack's Keycloak administrator (master realm): realms, partialImport and caches need it. */
async function realmAdminToken(): Promise<string> {
  const res = await fetch(`${env('KEYCLOAK_URL')}/realms/master/protocol/openid-connect/token`, {
    method: 'POST',
    dispatcher: stackAgent(),
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'password', client_id: 'admin-cli', username: env('KEYCLOAK_ADMIN_USER'), password: env('KEYCLOAK_ADMIN_PASSWORD') }).toString(),
  });
  if (!res.ok) throw new Error(`keycloak admin token: ${res.status}`);
  return ((await res.json()) as { access_token: string }).access_token;
}

let cached: { token: string; at: number } | undefined;

/** The administrator's token, fetched again after 30 s (it lasts a minute): each fetch costs Keycloak a password hash. */
async function adminToken(): Promise<string> {
  if (!cached || Date.now() - cached.at > 30_000) cached = { token: await realmAdminToken(), at: Date.now() };
  return cached.token;
}

/** One call to Keycloak's admin API as its administrator; throws on anything but `ok`. */
async function admin(method: string, path: string, body?: unknown, ok: readonly number[] = [200, 201, 204]): Promise<{ status: number; text: string }> {
  const res = await fetch(`${env('KEYCLOAK_URL')}/admin/realms${path}`, {
    method,
    dispatcher: stackAgent(),
    headers: { authorization: `Bearer ${await adminToken()}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  if (!ok.includes(res.status)) throw new Error(`keycloak ${method} ${path}: ${res.status} ${text.slice(0, 200)}`);
  return { status: res.status, text };
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

/**
 * Makes the realm if it is missing (the stack realm's clients and user profile, so the
 * API and worker work in it as in the stack's own), and the users it lacks; returns how
 * many users it made.
 */
export async function ensureP5Realm(realm: P5Realm): Promise<number> {
  const found = await admin('GET', `/${realm.name}`, undefined, [200, 404]);
  if (found.status === 404) {
    const ctx = { secrets: { keycloakClientSecret: env('KEYCLOAK_CLIENT_SECRET') } } as StackContext;
    await admin('POST', '', { ...realmRepresentation(ctx), realm: realm.name });
  }
  const present = new Set(await existingUsernames(realm.name));
  const missing = Array.from({ length: realm.users }, (_, index) => index).filter((index) => !present.has(p5Username(index)));
  for (let i = 0; i < missing.length; i += BATCH) {
    const users = missing.slice(i, i + BATCH).map((index) => representation(index, index < realm.managed));
    await admin('POST', `/${realm.name}/partialImport`, { ifResourceExists: 'SKIP', users });
  }
  return missing.length;
}

async function existingUsernames(realm: string): Promise<string[]> {
  // The usernames, not the ids: they say which indexes are missing.
  const names: string[] = [];
  for (let first = 0; ; first += 1000) {
    const { text } = await admin('GET', `/${realm}/users?search=${encodeURIComponent(P5_PREFIX)}&briefRepresentation=true&first=${first}&max=1000`);
    const page = JSON.parse(text) as { username: string }[];
    names.push(...page.map((user) => user.username).filter((name) => name.startsWith(P5_PREFIX)));
    if (page.length < 1000) return names;
  }
}

/** Empties Keycloak's user cache for the realm (its admin API's `clear-user-cache`). */
export async function clearUserCache(realm: string): Promise<void> {
  await admin('POST', `/${realm}/clear-user-cache`);
}

/**
 * `--p5-drop`: removes every P5 realm, and the P5 users earlier versions of the bench kept
 * in the stack's own realm; returns how many realms and users it removed.
 */
export async function dropP5(): Promise<{ realms: number; users: number }> {
  const realms = (JSON.parse((await admin('GET', '?briefRepresentation=true')).text) as { realm: string }[]).map((realm) => realm.realm).filter((name) => /^kup-p5-\d+-of-\d+$/.test(name));
  for (const name of realms) await admin('DELETE', `/${name}`);
  const ids = await keycloakUserIds(P5_PREFIX);
  await deleteKeycloakUsers(ids);
  return { realms: realms.length, users: ids.length };
}
