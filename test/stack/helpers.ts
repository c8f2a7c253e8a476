// Helpers for the stack's integration tests: env, HTTPS with the stack CA, polling with deadlines.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { http, type HttpResponse } from '@kup/stack';

export function env(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set (the integration globalSetup provides the stack env)`);
  return value;
}

export const unique = (prefix: string): string => `${prefix}-${randomBytes(4).toString('hex')}`;

/** HTTPS/HTTP request trusting the stack CA; `form` is sent urlencoded, `json` as JSON. */
export function request(
  url: string,
  opts: { method?: string; token?: string; form?: Record<string, string>; json?: unknown } = {},
): Promise<HttpResponse> {
  const headers: Record<string, string> = {};
  let body: string | undefined;
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  if (opts.form) {
    headers['content-type'] = 'application/x-www-form-urlencoded';
    body = new URLSearchParams(opts.form).toString();
  } else if (opts.json !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(opts.json);
  }
  return http(url, { method: opts.method, headers, body, ca: readFileSync(env('STACK_CA_FILE')), timeoutMs: 30_000 });
}

export { eventually } from '../helpers/poll.js';

export const realmUrl = (): string => `${env('KEYCLOAK_URL')}/realms/${env('KEYCLOAK_REALM')}`;
export const adminUrl = (path: string): string => `${env('KEYCLOAK_URL')}/admin/realms/${env('KEYCLOAK_REALM')}${path}`;

/** A client-credentials token of the provisioner's confidential client. */
export async function provisionerToken(): Promise<string> {
  const res = await request(`${realmUrl()}/protocol/openid-connect/token`, {
    method: 'POST',
    form: { grant_type: 'client_credentials', client_id: env('KEYCLOAK_CLIENT_ID'), client_secret: env('KEYCLOAK_CLIENT_SECRET') },
  });
  if (res.status !== 200) throw new Error(`client credentials: ${res.status} ${res.body}`);
  return (JSON.parse(res.body) as { access_token: string }).access_token;
}

/** Creates a realm user with the provisioner's token; returns its id. */
export async function createUser(token: string, user: Record<string, unknown>): Promise<string> {
  const res = await request(adminUrl('/users'), { method: 'POST', token, json: user });
  if (res.status !== 201) throw new Error(`create user: ${res.status} ${res.body}`);
  const location = String(res.headers.location);
  return location.slice(location.lastIndexOf('/') + 1);
}

export async function deleteUser(token: string, id: string): Promise<void> {
  await request(adminUrl(`/users/${id}`), { method: 'DELETE', token });
}

export function jwtPayload(token: string): Record<string, unknown> {
  const part = token.split('.')[1] ?? '';
  return JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as Record<string, unknown>;
}
