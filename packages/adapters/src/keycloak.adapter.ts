import KeycloakAdminClient, { NetworkError } from '@keycloak/keycloak-admin-client';
import type UserRepresentation from '@keycloak/keycloak-admin-client/lib/defs/userRepresentation.js';
import { Dispatcher1Wrapper, type Agent } from 'undici';
import { UpstreamError, timeUpstream, MANAGED_BY, type IdentityPage, type IdentityProvider, type IdentityUser, type UsernamePage, type NewIdentityUser, type CreatedIdentityUser } from '@kup/core';
import { KeycloakHttp } from './keycloak-http.js';
import { ClientCredentialsTokens } from './keycloak-token.js';
import { ATTRIBUTES, MANAGED_QUERY, NO_GRAFANA_USER, toIdentityUser, type Attributes } from './keycloak-users.js';
import { abortable } from './signals.js';
import { httpAgent } from './tls.js';

export interface KeycloakAdapterOptions {
  /** Keycloak's base URL, without `/realms/…`. */
  baseUrl: string;
  realm: string;
  /** A confidential client with the realm-management roles `manage-users` and `view-users`. */
  clientId: string;
  clientSecret: string;
  timeoutMs: number;
  /** PEM file of a private CA, when `NODE_EXTRA_CA_CERTS` was not set at process start. */
  caFile?: string | undefined;
  /** New users' `emailVerified` (KEYCLOAK_EMAIL_VERIFIED): true only when callers verify emails. */
  emailVerified?: boolean | undefined;
}

export { ATTRIBUTES } from './keycloak-users.js';

/**
 * `IdentityProvider` over the Keycloak admin REST API, authenticated as the provisioner's
 * own client. The calls of every create (find, create, the attribute updates) go through
 * `KeycloakHttp` on the kept-alive agent; the rest through the admin client, on the same
 * agent. Every failure leaves as an `UpstreamError` (`KeycloakHttp` or `#call`).
 */
export class KeycloakIdentityProvider implements IdentityProvider {
  readonly #admin: KeycloakAdminClient;
  readonly #http: KeycloakHttp;
  readonly #tokens: ClientCredentialsTokens;
  readonly #agent: Agent;
  readonly #emailVerified: boolean;

  constructor(options: KeycloakAdapterOptions) {
    this.#emailVerified = options.emailVerified ?? false;
    // One kept-alive pool (and its timeouts) for every call, whether or not a CA file is given.
    this.#agent = httpAgent({ timeoutMs: options.timeoutMs, caFile: options.caFile });
    // The admin client calls the global fetch, i.e. the undici bundled with Node (v7 in Node 24),
    // which speaks the v1 handler API; undici 8's agents take v2 handlers only. The wrapper
    // (undici's documented bridge) adapts v1 handlers and passes v2 ones through unchanged.
    // The DOM typings of fetch do not know the `dispatcher` field.
    const fetchOptions = { dispatcher: new Dispatcher1Wrapper(this.#agent) } as unknown as RequestInit;
    this.#tokens = new ClientCredentialsTokens({ ...options, fetchOptions });
    this.#http = new KeycloakHttp({ baseUrl: options.baseUrl, realm: options.realm, dispatcher: this.#agent, tokens: this.#tokens });
    this.#admin = new KeycloakAdminClient({
      baseUrl: options.baseUrl,
      realmName: options.realm,
      timeout: options.timeoutMs,
      requestOptions: fetchOptions,
    });
    this.#admin.registerTokenProvider({ getAccessToken: () => this.#tokens.get() });
  }

  async findUser(username: string, signal?: AbortSignal): Promise<IdentityUser | undefined> {
    const { payload } = await this.#http.send('find user', 'GET', '/users', { query: { username, exact: 'true' }, signal });
    const found = listOf<UserRepresentation>('find user', payload);
    const match = found.find((user) => user.username?.toLowerCase() === username.toLowerCase());
    return match && toIdentityUser(match);
  }

  async createUser(user: NewIdentityUser, signal?: AbortSignal): Promise<string> {
    const representation: UserRepresentation = {
      ...this.#representation(user),
      credentials: [{ type: 'password', value: user.password, temporary: false }],
    };
    // A 409 (username or email taken) stays a permanent UpstreamError: the domain looks
    // the user up before creating, so a conflict here is a race it decides about.
    const { location } = await this.#http.send('create user', 'POST', '/users', { body: representation, signal });
    // Keycloak answers 201 with the new user's URL; its last segment is the id.
    const id = location?.split('/').pop();
    if (!id) throw new UpstreamError('keycloak', 'create user', 502, { detail: 'no Location header in the answer' });
    return id;
  }

  async setCreatedProvisioned(userId: string, created: CreatedIdentityUser, grafanaUserId: number, signal?: AbortSignal): Promise<void> {
    // Keycloak's update replaces what it is sent (the attribute map whole; an email left out
    // is removed), so the body is the user as created, marked: the same user the read-then-write
    // of setProvisioned would send, without the read (about half of that mark's cost to Keycloak).
    const representation = this.#representation(created);
    representation.attributes[ATTRIBUTES.provisioned] = ['true'];
    representation.attributes[ATTRIBUTES.grafanaUserId] = [String(grafanaUserId)];
    await this.#http.send('set provisioned', 'PUT', `/users/${encodeURIComponent(userId)}`, { body: representation, signal });
  }

  /** The user `createUser` makes, without its password: `setCreatedProvisioned` writes it again. */
  #representation(user: CreatedIdentityUser): UserRepresentation & { attributes: Attributes } {
    // `none` marks a user made by a provisioner that records Grafana ids: a Grafana login
    // found for it later is never taken for ours without the recorded id (see ownership.ts).
    const attributes: Attributes = { [ATTRIBUTES.managedBy]: [MANAGED_BY], [ATTRIBUTES.grafanaUserId]: [NO_GRAFANA_USER] };
    if (user.expiresAt) attributes[ATTRIBUTES.expiresAt] = [user.expiresAt];
    if (user.profile) attributes[ATTRIBUTES.profile] = [user.profile];
    return {
      username: user.username,
      enabled: true,
      // Not verified unless the operator says callers verify emails: Keycloak would
      // otherwise trust an address nobody proved (account linking, reset emails).
      ...(user.email ? { email: user.email, emailVerified: this.#emailVerified } : {}),
      ...(user.firstName ? { firstName: user.firstName } : {}),
      ...(user.lastName ? { lastName: user.lastName } : {}),
      attributes,
    };
  }

  async setPassword(userId: string, password: string, signal?: AbortSignal): Promise<void> {
    const body = { type: 'password', value: password, temporary: false };
    await this.#http.send('set password', 'PUT', `/users/${encodeURIComponent(userId)}/reset-password`, { body, signal });
  }

  async setProvisioned(userId: string, provisioned: boolean, signal?: AbortSignal, grafanaUserId?: number): Promise<void> {
    await this.#updateAttributes('set provisioned', userId, signal, (attributes) => {
      if (provisioned) attributes[ATTRIBUTES.provisioned] = ['true'];
      else delete attributes[ATTRIBUTES.provisioned];
      if (grafanaUserId !== undefined) attributes[ATTRIBUTES.grafanaUserId] = [String(grafanaUserId)];
    });
  }

  async setGrafanaUserId(userId: string, grafanaUserId: number | null, signal?: AbortSignal): Promise<void> {
    await this.#updateAttributes('record grafana user', userId, signal, (attributes) => {
      attributes[ATTRIBUTES.grafanaUserId] = [grafanaUserId === null ? NO_GRAFANA_USER : String(grafanaUserId)];
    });
  }

  async setExpiresAt(userId: string, expiresAt: string | undefined, signal?: AbortSignal): Promise<void> {
    await this.#updateAttributes('set expiry', userId, signal, (attributes) => {
      if (expiresAt === undefined) delete attributes[ATTRIBUTES.expiresAt];
      else attributes[ATTRIBUTES.expiresAt] = [expiresAt];
    });
  }

  async setProfile(userId: string, profile: string, signal?: AbortSignal): Promise<void> {
    await this.#updateAttributes('set profile', userId, signal, (attributes) => {
      attributes[ATTRIBUTES.profile] = [profile];
    });
  }

  async adopt(userId: string, signal?: AbortSignal): Promise<void> {
    await this.#updateAttributes('adopt user', userId, signal, (attributes) => {
      attributes[ATTRIBUTES.managedBy] = [MANAGED_BY];
      attributes[ATTRIBUTES.provisioned] = ['true'];
    });
  }

  async deleteUser(userId: string, signal?: AbortSignal): Promise<boolean> {
    try {
      await this.#http.send('delete user', 'DELETE', `/users/${encodeURIComponent(userId)}`, { signal });
      return true;
    } catch (error) {
      // Thrown rather than answered, so that the call's metrics count it as `not_found`.
      if (error instanceof UpstreamError && error.status === 404) return false;
      throw error;
    }
  }

  async listManaged(first: number, max: number, signal?: AbortSignal, filter: { usernameContains?: string } = {}): Promise<IdentityPage> {
    const users = await this.#findManaged('list managed users', first, max, false, signal, filter);
    return { users: users.map(toIdentityUser), next: nextOffset(users.length, first, max) };
  }

  async listManagedNames(first: number, max: number, signal?: AbortSignal, filter: { usernameContains?: string } = {}): Promise<UsernamePage> {
    const users = await this.#findManaged('list managed usernames', first, max, true, signal, filter);
    return { usernames: users.map((user) => user.username ?? ''), next: nextOffset(users.length, first, max) };
  }

  /** A page of the managed users; with `username` (not exact) Keycloak matches it as a substring, together with `q`. */
  #findManaged(operation: string, first: number, max: number, briefRepresentation: boolean, signal: AbortSignal | undefined, filter: { usernameContains?: string }) {
    return this.#call(operation, signal, () => this.#admin.users.find({ q: MANAGED_QUERY, ...usernameQuery(filter), first, max, briefRepresentation }));
  }

  countUsers(filter: { managed: boolean; usernameContains?: string }, signal?: AbortSignal): Promise<number> {
    const query = { ...(filter.managed ? { q: MANAGED_QUERY } : {}), ...usernameQuery(filter) };
    return this.#call('count users', signal, () => this.#admin.users.count(query));
  }

  async listUsers(first: number, max: number, signal?: AbortSignal, filter: { usernameContains?: string } = {}): Promise<IdentityPage> {
    const users = await this.#call('list users', signal, () => this.#admin.users.find({ ...usernameQuery(filter), first, max, briefRepresentation: false }));
    return { users: users.map(toIdentityUser), next: nextOffset(users.length, first, max) };
  }

  async findGroup(name: string, signal?: AbortSignal): Promise<string | undefined> {
    const found = await this.#call('find group', signal, () => this.#admin.groups.find({ search: name, exact: true, briefRepresentation: true }));
    return found.find((group) => group.name === name)?.id;
  }

  async ensureGroup(name: string, signal?: AbortSignal): Promise<string> {
    const existing = await this.findGroup(name, signal);
    if (existing) return existing;
    try {
      return (await this.#call('create group', signal, () => this.#admin.groups.create({ name }))).id;
    } catch (error) {
      // Made by another worker in between: take that one.
      const raced = error instanceof UpstreamError && error.status === 409 ? await this.findGroup(name, signal) : undefined;
      if (raced) return raced;
      throw error;
    }
  }

  async addToGroup(userId: string, groupId: string, signal?: AbortSignal): Promise<void> {
    await this.#http.send('add to group', 'PUT', `/users/${encodeURIComponent(userId)}/groups/${encodeURIComponent(groupId)}`, { signal });
  }

  async listGroupMembers(groupId: string, first: number, max: number, signal?: AbortSignal): Promise<IdentityPage> {
    const users = await this.#call('list group members', signal, () => this.#admin.groups.listMembers({ id: groupId, first, max, briefRepresentation: false }));
    return { users: users.map(toIdentityUser), next: nextOffset(users.length, first, max) };
  }

  async listGroups(prefix: string, first: number, max: number, signal?: AbortSignal): Promise<{ groups: { id: string; name: string }[]; next: number | undefined }> {
    const found = await this.#call('list groups', signal, () => this.#admin.groups.find({ search: prefix, first, max, briefRepresentation: true }));
    const groups = found.flatMap((group) => (group.id && group.name?.startsWith(prefix) ? [{ id: group.id, name: group.name }] : []));
    return { groups, next: nextOffset(found.length, first, max) };
  }

  async groupsOf(userId: string, signal?: AbortSignal): Promise<string[]> {
    const { payload } = await this.#http.send('list user groups', 'GET', `/users/${encodeURIComponent(userId)}/groups`, { query: { briefRepresentation: 'true' }, signal });
    const groups = listOf<{ name?: string }>('list user groups', payload);
    return groups.flatMap((group) => (group.name ? [group.name] : []));
  }

  async deleteGroup(groupId: string, signal?: AbortSignal): Promise<boolean> {
    try {
      await this.#call('delete group', signal, () => this.#admin.groups.del({ id: groupId }));
      return true;
    } catch (error) {
      if (error instanceof UpstreamError && error.status === 404) return false;
      throw error;
    }
  }

  /** Releases the kept-alive connections. */
  async close(): Promise<void> {
    await this.#agent.close();
  }

  /**
   * Keycloak 26 replaces the whole attribute map on PUT: read the user, change its
   * attributes, write the full representation back.
   */
  async #updateAttributes(operation: string, userId: string, signal: AbortSignal | undefined, change: (attributes: Attributes) => void): Promise<void> {
    const path = `/users/${encodeURIComponent(userId)}`;
    const found = await this.#http.send(operation, 'GET', path, { signal, absentOk: true });
    const current = found?.payload as UserRepresentation | undefined;
    if (!current) throw new UpstreamError('keycloak', operation, 404, { detail: 'user not found' });
    const attributes: Attributes = { ...(current.attributes as Attributes | undefined) };
    change(attributes);
    await this.#http.send(operation, 'PUT', path, { body: { ...current, attributes }, signal });
  }

  /** The one exit for Keycloak failures; one retry with a fresh token after a 401. */
  async #call<T>(operation: string, signal: AbortSignal | undefined, request: () => Promise<T>): Promise<T> {
    return timeUpstream('keycloak', operation, () => this.#attempt(operation, signal, request));
  }

  async #attempt<T>(operation: string, signal: AbortSignal | undefined, request: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        signal?.throwIfAborted();
        return await abortable(request(), signal);
      } catch (error) {
        const status = error instanceof NetworkError ? error.response.status : undefined;
        if (status === 401 && attempt === 1) {
          this.#tokens.invalidate();
          continue;
        }
        throw toUpstreamError(operation, error);
      }
    }
  }
}

/** The offset of the next page, or undefined when this one came back short (the last). */
const nextOffset = (count: number, first: number, max: number): number | undefined => (count >= max ? first + max : undefined);
/** `username` without `exact`: Keycloak matches it as a substring. */
const usernameQuery = (filter: { usernameContains?: string }) => (filter.usernameContains ? { username: filter.usernameContains } : {});

function toUpstreamError(operation: string, error: unknown): UpstreamError {
  if (error instanceof UpstreamError) return error;
  if (error instanceof NetworkError) {
    // Keycloak's `errorMessage` names the clashing field ("User exists with same
    // username"); it never echoes a credential.
    return new UpstreamError('keycloak', operation, error.response.status, { cause: error, detail: error.message });
  }
  const reason = error instanceof Error && error.name === 'TimeoutError' ? 'timed out' : undefined;
  return new UpstreamError('keycloak', operation, undefined, { cause: error, ...(reason ? { detail: reason } : {}) });
}

/** A list answer; anything else is not Keycloak (a proxy, a wrong URL): never read as "none found". */
function listOf<T>(operation: string, payload: unknown): T[] {
  if (!Array.isArray(payload)) throw new UpstreamError('keycloak', operation, 502, { detail: 'the answer is not a list' });
  return payload as T[];
}
