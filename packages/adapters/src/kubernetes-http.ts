import type { AgentOptions, RequestOptions } from 'node:https';
import { ApiException, HttpMethod, KubeConfig, KubernetesObjectApi } from '@kubernetes/client-node';
import { Agent, type Dispatcher } from 'undici';
import type { V1APIResource, V1APIResourceList } from '@kubernetes/client-node';
import { clearableDeadline, deadline } from './signals.js';

export { HttpMethod };

/**
 * How long the credentials and TLS settings resolved for one request serve the next ones:
 * a create's eight requests resolve them once instead of eight times (client-node's
 * authenticators, the TLS options compared byte by byte), and a rotated token or
 * certificate is still picked up within a second.
 */
export const CREDENTIALS_REUSE_MS = 1_000;

/** Where and how a request goes straight onto the kept-alive dispatcher. */
interface Direct {
  origin: string;
  basePath: string;
  headers: Record<string, string>;
  pool: Pool;
}

export interface KubeRequest {
  query?: Readonly<Record<string, string>>;
  body?: unknown;
  contentType?: string;
  /** The Accept header; `application/json` unless given (e.g. metadata-only lists). */
  accept?: string;
  signal?: AbortSignal | undefined;
  /** The caller does not read a successful answer: it is drained unparsed (apply answers are whole objects). */
  discardBody?: boolean;
  /**
   * A 404 answers `undefined` instead of rejecting: the caller asks whether the object is
   * there, and "not yet" is the usual answer (a create's namespace reads), not worth an
   * exception and its stack on every trainee.
   */
  absentAsUndefined?: boolean;
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
  /**
   * The kept-alive connections every request reuses, and the TLS settings they were made with;
   * when those change (rotated client certificates) new ones replace them and the old ones are
   * closed once their requests are done.
   */
  #pool: Pool | undefined;
  /** The cluster's server URL, parsed once. */
  #server: { url: string; origin: string; basePath: string } | undefined;
  /** What `#direct` last resolved, and when (performance.now()). */
  #resolved: { at: number; direct: Direct | undefined } | undefined;

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
    this.#resolved = undefined;
    await pool?.close();
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
    const direct = await this.#direct();
    if (!direct) return this.#sendThroughClient(method, path, request);
    // Straight onto the kept-alive dispatcher with undici's `request`: client-node's `fetch`
    // (WHATWG streams, a request context, a new Agent per call) was most of the worker's CPU
    // per Kubernetes call. Same URL, headers, auth and TLS as client-node sends.
    const query = request.query && Object.keys(request.query).length > 0 ? `?${new URLSearchParams(request.query).toString()}` : '';
    const headers: Record<string, string> = { ...direct.headers, accept: request.accept ?? 'application/json' };
    let body: string | undefined;
    if (request.body !== undefined) {
      headers['content-type'] = request.contentType ?? 'application/json';
      body = JSON.stringify(request.body);
    }
    const { dispatcher, done } = direct.pool.take();
    const timeout = clearableDeadline(this.#timeoutMs, request.signal);
    try {
      const response = await dispatcher.request({
        origin: direct.origin,
        path: `${direct.basePath}${path}${query}`,
        method,
        headers,
        ...(body === undefined ? {} : { body }),
        signal: timeout.signal,
      });
      const ok = response.statusCode >= 200 && response.statusCode <= 299;
      if ((ok && request.discardBody) || (response.statusCode === 404 && request.absentAsUndefined)) {
        // Read to the end (no cap below the apiserver's object size), so the socket is kept alive.
        await response.body.dump({ limit: 4 * 1024 * 1024 });
        return undefined;
      }
      const parsed = parseJson(await response.body.text());
      if (!ok) {
        throw new ApiException(response.statusCode, 'Unsuccessful HTTP Request', parsed, flatHeaders(response.headers));
      }
      return parsed;
    } finally {
      timeout.clear();
      done();
    }
  }

  /**
   * What a direct request needs: the cluster's origin, the headers client-node's auth adds
   * (a bearer token, basic auth, impersonation), and the kept-alive dispatcher for the
   * current TLS settings. Undefined where client-node would not use a plain TLS agent
   * (proxies, SOCKS, no TLS options): those requests go through client-node as made.
   */
  async #direct(): Promise<Direct | undefined> {
    const now = performance.now();
    const cached = this.#resolved;
    if (cached && now - cached.at < CREDENTIALS_REUSE_MS) return cached.direct;
    const direct = await this.#resolveDirect();
    this.#resolved = { at: now, direct };
    return direct;
  }

  async #resolveDirect(): Promise<Direct | undefined> {
    const kubeconfig = this.#kubeconfig;
    const cluster = kubeconfig?.getCurrentCluster();
    if (!kubeconfig || !cluster) return undefined;
    // Authenticators cache their credentials: asking again costs no second login.
    const options: RequestOptions = {};
    await kubeconfig.applyToHTTPSOptions(options);
    const { ca, cert, key, pfx, passphrase, rejectUnauthorized, servername } = options as AgentOptions;
    const tls = [ca, cert, key, pfx, passphrase, rejectUnauthorized, servername];
    // Same TLS settings, same pool: the dispatcher options are only made for a new one.
    if (!this.#pool || !sameOptions(this.#pool.tls, tls)) {
      const made = kubeconfig.createDispatcherOptions(cluster, { ca, cert, key, pfx, passphrase, rejectUnauthorized, servername });
      if (made.type !== 'agent') return undefined;
      const old = this.#pool;
      this.#pool = new Pool(made.connect, tls);
      void old?.close().catch(() => undefined);
    }
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(options.headers ?? {})) if (value !== undefined) headers[name.toLowerCase()] = String(value);
    if (options.auth) headers.authorization = `Basic ${Buffer.from(options.auth).toString('base64')}`;
    if (this.#server?.url !== cluster.server) {
      const server = new URL(cluster.server);
      this.#server = { url: cluster.server, origin: server.origin, basePath: server.pathname.replace(/\/$/, '') };
    }
    const server = this.#server;
    return { origin: server.origin, basePath: server.basePath, headers, pool: this.#pool };
  }

  /** client-node's own way (its `fetch` and dispatcher), for proxies and other set-ups `#direct` leaves alone. */
  async #sendThroughClient(method: HttpMethod, path: string, request: KubeRequest): Promise<unknown> {
    const context = this.configuration.baseServer.makeRequestContext(path, method);
    context.setHeaderParam('Accept', request.accept ?? 'application/json');
    for (const [key, value] of Object.entries(request.query ?? {})) context.setQueryParam(key, value);
    if (request.body !== undefined) {
      context.setHeaderParam('Content-Type', request.contentType ?? 'application/json');
      context.setBody(JSON.stringify(request.body));
    }
    context.setSignal(deadline(this.#timeoutMs, request.signal));
    await this.configuration.authMethods.default?.applySecurityAuthentication(context);
    const response = await this.configuration.httpApi.send(context).toPromise();
    const text = await response.body.text();
    if (response.httpStatusCode === 404 && request.absentAsUndefined) return undefined;
    const body = parseJson(text);
    if (response.httpStatusCode < 200 || response.httpStatusCode > 299) {
      throw new ApiException(response.httpStatusCode, 'Unsuccessful HTTP Request', body, response.headers);
    }
    return body;
  }
}

/**
 * Up to this many requests at once go over HTTP/1.1, each on a kept-alive connection of its
 * own; the worker's sequential calls (a create's applies and reads, one per job slot) stay
 * within it. HTTP/2 costs both sides more CPU per small request (Node's http2 core, per-stream
 * set-up), but carries a burst (a purge's delete-collections, sent together) on one
 * connection instead of a TLS handshake per request.
 */
export const HTTP1_CONNECTIONS = 4;

/** The two kept-alive agents for one set of TLS settings, and which one a request takes. */
class Pool {
  #http1: Dispatcher;
  #http2: Dispatcher | undefined;
  #connect: Agent.Options['connect'];
  #busy = 0;

  constructor(connect: Agent.Options['connect'], readonly tls: readonly unknown[]) {
    this.#connect = connect;
    this.#http1 = new Agent({ connect, allowH2: false, connections: HTTP1_CONNECTIONS });
  }

  /** The dispatcher for the next request, and what to call once its answer is read. */
  take(): { dispatcher: Dispatcher; done: () => void } {
    if (this.#busy >= HTTP1_CONNECTIONS) {
      // A burst beyond the HTTP/1.1 connections: HTTP/2 (undici's default) multiplexes it.
      this.#http2 ??= new Agent({ connect: this.#connect });
      return { dispatcher: this.#http2, done: () => undefined };
    }
    this.#busy += 1;
    let released = false;
    return {
      dispatcher: this.#http1,
      done: () => {
        if (!released) this.#busy -= 1;
        released = true;
      },
    };
  }

  async close(): Promise<void> {
    await Promise.all([this.#http1.close(), this.#http2?.close()]);
  }
}

/** Response headers as client-node's `ApiException` carries them (one string per name). */
function flatHeaders(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).flatMap(([name, value]) => (value === undefined ? [] : [[name, Array.isArray(value) ? value.join(', ') : value]])));
}

/** Whether two TLS options hold the same values (Buffers and strings compared by content, arrays of them, flags). */
function sameOptions(a: unknown, b: unknown): boolean {
  if (Buffer.isBuffer(a) && Buffer.isBuffer(b)) return a.equals(b);
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((value, i) => sameOptions(value, b[i]));
  if (Buffer.isBuffer(a) || Buffer.isBuffer(b) || Array.isArray(a) || Array.isArray(b)) return false;
  return (a ?? undefined) === (b ?? undefined);
}

function parseJson(text: string): unknown {
  if (!text) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}
