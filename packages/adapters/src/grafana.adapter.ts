import type { Agent, Dispatcher } from 'undici';
import { UpstreamError, timeUpstream, type GrafanaGateway, type GrafanaRole, type GrafanaUser, type NewGrafanaUser } from '@kup/core';
import { httpAgent } from './tls.js';

export interface GrafanaAdapterOptions {
  /** Grafana's root URL, sub-path included (`https://host/grafana`). */
  baseUrl: string;
  adminUser: string;
  adminPassword: string;
  timeoutMs: number;
  /** PEM file of a private CA, when `NODE_EXTRA_CA_CERTS` was not set at process start. */
  caFile?: string | undefined;
}

interface Call {
  body?: unknown;
  signal?: AbortSignal | undefined;
}

/**
 * `GrafanaGateway` over Grafana's admin HTTP API with server-admin basic auth. Every
 * failure leaves through `#send` as an `UpstreamError` carrying Grafana's `message`,
 * never the request (which may hold a password).
 */
export class GrafanaHttpGateway implements GrafanaGateway {
  readonly #origin: string;
  readonly #basePath: string;
  readonly #authorization: string;
  readonly #agent: Agent;

  constructor(options: GrafanaAdapterOptions) {
    const url = new URL(options.baseUrl);
    this.#origin = url.origin;
    this.#basePath = url.pathname.replace(/\/+$/, '');
    this.#authorization = `Basic ${Buffer.from(`${options.adminUser}:${options.adminPassword}`).toString('base64')}`;
    this.#agent = httpAgent(options);
  }

  async findUser(loginOrEmail: string, signal?: AbortSignal): Promise<GrafanaUser | undefined> {
    const user = await this.#send<UserProfile>('look up user', 'GET', `/api/users/lookup?loginOrEmail=${encodeURIComponent(loginOrEmail)}`, { signal }, true);
    return user && toGrafanaUser(user);
  }

  async getUser(userId: number, signal?: AbortSignal): Promise<GrafanaUser | undefined> {
    const user = await this.#send<UserProfile>('get user', 'GET', `/api/users/${userId}`, { signal }, true);
    return user && toGrafanaUser(user);
  }

  async createUser(user: NewGrafanaUser, signal?: AbortSignal): Promise<number> {
    const body = { login: user.login, email: user.email, name: user.name, password: user.password, OrgId: user.orgId };
    const created = await this.#send<{ id: number }>('create user', 'POST', '/api/admin/users', { body, signal });
    return created.id;
  }

  async setPassword(userId: number, password: string, signal?: AbortSignal): Promise<void> {
    await this.#send('set password', 'PUT', `/api/admin/users/${userId}/password`, { body: { password }, signal });
  }

  async setOrgRole(orgId: number, userId: number, role: GrafanaRole, signal?: AbortSignal): Promise<void> {
    await this.#send('set org role', 'PATCH', `/api/orgs/${orgId}/users/${userId}`, { body: { role }, signal });
  }

  async deleteUser(userId: number, signal?: AbortSignal): Promise<boolean> {
    const deleted = await this.#send('delete user', 'DELETE', `/api/admin/users/${userId}`, { signal }, true);
    return deleted !== undefined;
  }

  async close(): Promise<void> {
    await this.#agent.close();
  }

  /** The one exit for Grafana failures. With `absentOk`, a 404 gives undefined. */
  async #send<T>(operation: string, method: Dispatcher.HttpMethod, path: string, call: Call, absentOk: true): Promise<T | undefined>;
  async #send<T>(operation: string, method: Dispatcher.HttpMethod, path: string, call: Call): Promise<T>;
  async #send<T>(operation: string, method: Dispatcher.HttpMethod, path: string, call: Call, absentOk = false): Promise<T | undefined> {
    return timeUpstream('grafana', operation, () => this.#request<T>(operation, method, path, call, absentOk));
  }

  async #request<T>(operation: string, method: Dispatcher.HttpMethod, path: string, call: Call, absentOk: boolean): Promise<T | undefined> {
    let status: number;
    let text: string;
    try {
      const response = await this.#agent.request({
        origin: this.#origin,
        path: `${this.#basePath}${path}`,
        method,
        headers: {
          authorization: this.#authorization,
          accept: 'application/json',
          ...(call.body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(call.body === undefined ? {} : { body: JSON.stringify(call.body) }),
        signal: call.signal ?? null,
      });
      status = response.statusCode;
      text = await response.body.text();
    } catch (error) {
      throw new UpstreamError('grafana', operation, undefined, { cause: error, detail: networkReason(error) });
    }
    if (status === 404 && absentOk) return undefined;
    const payload = parseJson(text);
    if (status >= 400) {
      const message = (payload as { message?: unknown } | undefined)?.message;
      throw new UpstreamError('grafana', operation, status, typeof message === 'string' ? { detail: message } : {});
    }
    // A 2xx that is not JSON is a proxy or a wrong URL, not Grafana: worth another try.
    if (payload === undefined) throw new UpstreamError('grafana', operation, 502, { detail: 'the answer is not JSON' });
    return payload as T;
  }
}

/** The fields of Grafana's user profile (`/api/users/lookup`, `/api/users/:id`) the domain reads. */
interface UserProfile {
  id: number;
  login: string;
  email: string;
  isGrafanaAdmin?: boolean;
}

function toGrafanaUser(user: UserProfile): GrafanaUser {
  return { id: user.id, login: user.login, email: user.email, isGrafanaAdmin: user.isGrafanaAdmin === true };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function networkReason(error: unknown): string {
  const { code, name } = error as { code?: unknown; name?: unknown };
  return typeof code === 'string' ? code : typeof name === 'string' ? name : 'network error';
}
