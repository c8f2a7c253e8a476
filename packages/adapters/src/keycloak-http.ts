import type { Dispatcher } from 'undici';
import { UpstreamError, timeUpstream } from '@kup/core';
import { abortable } from './signals.js';

/** Where bearer tokens come from (`ClientCredentialsTokens`); `invalidate` after a 401. */
export interface TokenSource {
  get(): Promise<string>;
  invalidate(): void;
}

export interface KeycloakCall {
  /** Query parameters, encoded here. */
  query?: Readonly<Record<string, string>>;
  body?: unknown;
  signal?: AbortSignal | undefined;
  /** A 404 answers undefined instead of failing. */
  absentOk?: boolean;
}

export interface KeycloakAnswer {
  status: number;
  /** The `Location` header (a create's new resource). */
  location: string | undefined;
  /** The parsed JSON body; undefined when empty. */
  payload: unknown;
}

/**
 * Admin REST calls of a realm straight onto a kept-alive undici dispatcher with `request`:
 * the admin client's `fetch` (WHATWG streams, a `Headers` and `URL` per call, an
 * `AbortSignal.timeout` each) cost the worker about as much CPU per call as Keycloak's
 * other calls cost it in all. Same auth as the admin client (the client's bearer token,
 * one retry with a fresh one after a 401); timeouts are the dispatcher's. Every failure
 * leaves as an `UpstreamError` carrying Keycloak's own message, never the request (a new
 * user's body holds its password).
 */
export class KeycloakHttp {
  readonly #origin: string;
  /** `/…/admin/realms/{realm}`, the realm encoded. */
  readonly #realmPath: string;
  readonly #dispatcher: Dispatcher;
  readonly #tokens: TokenSource;

  constructor(options: { baseUrl: string; realm: string; dispatcher: Dispatcher; tokens: TokenSource }) {
    const url = new URL(options.baseUrl);
    this.#origin = url.origin;
    this.#realmPath = `${url.pathname.replace(/\/+$/, '')}/admin/realms/${encodeURIComponent(options.realm)}`;
    this.#dispatcher = options.dispatcher;
    this.#tokens = options.tokens;
  }

  /** One timed call (`timeUpstream`) to `path` under the realm's admin API. */
  async send(operation: string, method: Dispatcher.HttpMethod, path: string, call: KeycloakCall & { absentOk: true }): Promise<KeycloakAnswer | undefined>;
  async send(operation: string, method: Dispatcher.HttpMethod, path: string, call?: KeycloakCall): Promise<KeycloakAnswer>;
  async send(operation: string, method: Dispatcher.HttpMethod, path: string, call: KeycloakCall = {}): Promise<KeycloakAnswer | undefined> {
    return timeUpstream('keycloak', operation, () => this.#send(operation, method, path, call));
  }

  async #send(operation: string, method: Dispatcher.HttpMethod, path: string, call: KeycloakCall): Promise<KeycloakAnswer | undefined> {
    const query = call.query ? `?${new URLSearchParams(call.query).toString()}` : '';
    const body = call.body === undefined ? undefined : JSON.stringify(call.body);
    for (let attempt = 1; ; attempt++) {
      const { status, location, text } = await this.#exchange(operation, method, `${this.#realmPath}${path}${query}`, body, call.signal);
      if (status === 401 && attempt === 1) {
        this.#tokens.invalidate();
        continue;
      }
      if (status === 404 && call.absentOk) return undefined;
      const payload = parseJson(text);
      if (status < 200 || status > 299) throw new UpstreamError('keycloak', operation, status, errorDetail(payload));
      // A 2xx body that is not JSON is a proxy or a wrong URL, not Keycloak: worth another try.
      if (payload === NOT_JSON) throw new UpstreamError('keycloak', operation, 502, { detail: 'the answer is not JSON' });
      return { status, location: single(location), payload };
    }
  }

  /** Sends one request and reads its answer to the end (so the connection is kept). */
  async #exchange(
    operation: string,
    method: Dispatcher.HttpMethod,
    path: string,
    body: string | undefined,
    signal: AbortSignal | undefined,
  ): Promise<{ status: number; location: string | string[] | undefined; text: string }> {
    try {
      signal?.throwIfAborted();
      const token = await abortable(this.#tokens.get(), signal);
      const response = await this.#dispatcher.request({
        origin: this.#origin,
        path,
        method,
        headers: {
          authorization: `Bearer ${token}`,
          accept: 'application/json',
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body }),
        signal: signal ?? null,
      });
      return { status: response.statusCode, location: response.headers.location, text: await response.body.text() };
    } catch (error) {
      // The token's own failures (`authenticate`) are already UpstreamErrors.
      if (error instanceof UpstreamError) throw error;
      throw new UpstreamError('keycloak', operation, undefined, { cause: error, detail: networkReason(error) });
    }
  }
}

const NOT_JSON = Symbol('not JSON');

function parseJson(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return NOT_JSON;
  }
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/**
 * Keycloak's `error` or `errorMessage` (the fields the admin client reads, in its order):
 * it names the clashing field ("User exists with same username") or the rule a value
 * broke, and never echoes a credential.
 */
function errorDetail(payload: unknown): { detail?: string } {
  if (typeof payload !== 'object' || payload === null) return {};
  const { error, errorMessage } = payload as { error?: unknown; errorMessage?: unknown };
  const detail = typeof error === 'string' ? error : typeof errorMessage === 'string' ? errorMessage : undefined;
  return detail === undefined ? {} : { detail };
}

const TIMEOUT_CODES = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);

/** Why a request got no answer: timed out, aborted, or the socket error's code. */
function networkReason(error: unknown): string {
  const { code, name } = (error ?? {}) as { code?: unknown; name?: unknown };
  if (name === 'TimeoutError' || (typeof code === 'string' && TIMEOUT_CODES.has(code))) return 'timed out';
  if (name === 'AbortError') return 'aborted';
  return typeof code === 'string' ? code : typeof name === 'string' ? name : 'network error';
}
