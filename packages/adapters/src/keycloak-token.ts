import { UpstreamError } from '@kup/core';
import { deadline } from './signals.js';

export interface ClientCredentials {
  /** Keycloak's base URL, without `/realms/…`. */
  baseUrl: string;
  realm: string;
  clientId: string;
  clientSecret: string;
  timeoutMs: number;
  /** Extra `fetch` options (an undici `dispatcher` trusting a private CA). */
  fetchOptions?: RequestInit;
}

/** Renew this long before Keycloak says the token expires. */
const EARLY_RENEWAL_MS = 30_000;

/**
 * Access tokens of a confidential client (client-credentials grant). Such tokens come
 * without a refresh token, so a new one is fetched shortly before each expires; concurrent
 * callers share one request. `invalidate()` after a 401 forces a fresh token.
 */
export class ClientCredentialsTokens {
  readonly #options: ClientCredentials;
  #cached: { token: string; renewAt: number } | undefined;
  #pending: Promise<string> | undefined;

  constructor(options: ClientCredentials) {
    this.#options = options;
  }

  async get(): Promise<string> {
    if (this.#cached && Date.now() < this.#cached.renewAt) return this.#cached.token;
    this.#pending ??= this.#fetch().finally(() => {
      this.#pending = undefined;
    });
    return this.#pending;
  }

  invalidate(): void {
    this.#cached = undefined;
  }

  async #fetch(): Promise<string> {
    const { baseUrl, realm, clientId, clientSecret, timeoutMs, fetchOptions } = this.#options;
    const url = `${baseUrl.replace(/\/+$/, '')}/realms/${encodeURIComponent(realm)}/protocol/openid-connect/token`;
    let response: Response;
    try {
      response = await fetch(url, {
        ...fetchOptions,
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'client_credentials', client_id: clientId, client_secret: clientSecret }),
        signal: deadline(timeoutMs, undefined),
      });
    } catch (error) {
      throw new UpstreamError('keycloak', 'authenticate', undefined, { cause: error });
    }
    const body = (await response.json().catch(() => ({}))) as { access_token?: string; expires_in?: number; error?: string };
    if (!response.ok || !body.access_token) {
      // `error` is an OAuth error code such as `unauthorized_client`: never a secret.
      throw new UpstreamError('keycloak', 'authenticate', response.ok ? 502 : response.status, { detail: body.error });
    }
    const lifetimeMs = (body.expires_in ?? 60) * 1000;
    this.#cached = { token: body.access_token, renewAt: Date.now() + Math.max(lifetimeMs - EARLY_RENEWAL_MS, lifetimeMs / 2) };
    return body.access_token;
  }
}
