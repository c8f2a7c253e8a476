import type { AgentOptions, RequestOptions } from 'node:https';
import { ApiException, HttpMethod, KubeConfig, KubernetesObjectApi } from '@kubernetes/client-node';
import type { Dispatcher } from 'undici';
import type { V1APIResource, V1APIResourceList } from '@kubernetes/client-node';
import { deadline } from './signals.js';

export { HttpMethod };

export interface KubeRequest {
  query?: Record<string, string>;
  body?: unknown;
  contentType?: string;
  /** The Accept header; `application/json` unless given (e.g. metadata-only lists). */
  accept?: string;
  signal?: AbortSignal | undefined;
}

export interface ResourceRef {
  apiVersion: string;
  kind: string;
  name?: string;
  namespace?: string | undefined;
}

/**
 * Plain-JSON requests to the apiserver through client-node's configuration (kubeconfig
 * auth, TLS agent): the generated clients cannot take a per-call `AbortSignal` and turn
 * answers into class instances. `KubernetesObjectApi` lends its kind → URL resolution
 * (with its discovery cache).
 */
export class KubeHttp extends KubernetesObjectApi {
  #timeoutMs = 15_000;
  #kubeconfig: KubeConfig | undefined;
  /** The undici dispatcher reused for every request, and the TLS settings it was made with. */
  #pool: { dispatcher: Dispatcher; tls: string } | undefined;

  static create(kubeconfig: KubeConfig, timeoutMs: number): KubeHttp {
    const client = kubeconfig.makeApiClient(KubeHttp);
    client.setDefaultNamespace(kubeconfig);
    client.#timeoutMs = timeoutMs;
    client.#kubeconfig = kubeconfig;
    return client;
  }

  /** Closes the kept-alive connections (requests in flight finish first). */
  async close(): Promise<void> {
    const pool = this.#pool;
    this.#pool = undefined;
    await pool?.dispatcher.close();
  }

  /** The URL path of an object (`name` set) or of its collection. */
  async pathOf(ref: ResourceRef): Promise<string> {
    const spec = { apiVersion: ref.apiVersion, kind: ref.kind, metadata: { name: ref.name ?? '', ...(ref.namespace ? { namespace: ref.namespace } : {}) } };
    return this.specUriPath(spec, ref.name ? 'read' : 'list');
  }

  /** Discovery's entry for a kind (cached per apiVersion); undefined when not served. */
  async kindResource(apiVersion: string, kind: string): Promise<V1APIResource | undefined> {
    return this.resource(apiVersion, kind);
  }

  /** client-node's kind lookup, through `send` so that it too has a timeout. */
  protected override async resource(apiVersion: string, kind: string): Promise<V1APIResource | undefined> {
    const known = this.apiVersionResourceCache[apiVersion]?.resources.find((r) => r.kind === kind);
    if (known) return known;
    const list = (await this.send(HttpMethod.GET, this.apiVersionPath(apiVersion))) as V1APIResourceList;
    this.apiVersionResourceCache[apiVersion] = list;
    return list.resources.find((r) => r.kind === kind);
  }

  /** Sends one request; a non-2xx answer rejects with client-node's `ApiException`. */
  async send(method: HttpMethod, path: string, request: KubeRequest = {}): Promise<unknown> {
    const context = this.configuration.baseServer.makeRequestContext(path, method);
    context.setHeaderParam('Accept', request.accept ?? 'application/json');
    for (const [key, value] of Object.entries(request.query ?? {})) context.setQueryParam(key, value);
    if (request.body !== undefined) {
      context.setHeaderParam('Content-Type', request.contentType ?? 'application/json');
      context.setBody(JSON.stringify(request.body));
    }
    context.setSignal(deadline(this.#timeoutMs, request.signal));
    await this.configuration.authMethods.default?.applySecurityAuthentication(context);
    const made = context.getDispatcher();
    if (made) context.setDispatcher(await this.#keepAlive(made));
    const response = await this.configuration.httpApi.send(context).toPromise();
    const text = await response.body.text();
    const body = parseJson(text);
    if (response.httpStatusCode < 200 || response.httpStatusCode > 299) {
      throw new ApiException(response.httpStatusCode, 'Unsuccessful HTTP Request', body, response.headers);
    }
    return body;
  }

  /**
   * client-node 2 makes a new undici Agent, so a new TLS connection with its handshake, for
   * every request, and never closes the old ones. The first Agent it makes is kept and reused
   * (undici keeps its connections alive) as long as the TLS settings stay the same; when they
   * change (rotated client certificates), the next one it makes replaces it and the old one
   * is closed once its requests are done. Proxy, SOCKS and plain-HTTP dispatchers are used
   * as client-node made them.
   */
  async #keepAlive(made: Dispatcher): Promise<Dispatcher> {
    const kubeconfig = this.#kubeconfig;
    if (!kubeconfig) return made;
    // The TLS settings client-node derived its dispatcher from (authenticators cache their
    // credentials, so asking again costs no second login).
    const https: RequestOptions = {};
    await kubeconfig.applyToHTTPSOptions(https);
    const { ca, cert, key, pfx, passphrase, rejectUnauthorized, servername } = https as AgentOptions;
    const tlsOptions = { ca, cert, key, pfx, passphrase, rejectUnauthorized, servername };
    if (kubeconfig.createDispatcherOptions(kubeconfig.getCurrentCluster(), tlsOptions).type !== 'agent') return made;
    const tls = Object.values(tlsOptions).map(fingerprint).join('|');
    if (this.#pool?.tls === tls) {
      void made.close().catch(() => undefined); // never used: it holds no connection
      return this.#pool.dispatcher;
    }
    const old = this.#pool;
    this.#pool = { dispatcher: made, tls };
    void old?.dispatcher.close().catch(() => undefined);
    return made;
  }
}

/** A comparable form of a TLS option (Buffers, strings, arrays of them, flags). */
function fingerprint(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (Buffer.isBuffer(value)) return value.toString('base64');
  if (Array.isArray(value)) return value.map(fingerprint).join(',');
  return String(value);
}

function parseJson(text: string): unknown {
  if (!text) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}
