import type { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { ApiException, HttpMethod, KubeConfig, KubernetesObjectApi } from '@kubernetes/client-node';
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
  /** The keep-alive pool, and the TLS settings it was made with. */
  #pool: { agent: HttpsAgent; tls: string } | undefined;

  static create(kubeconfig: KubeConfig, timeoutMs: number): KubeHttp {
    const client = kubeconfig.makeApiClient(KubeHttp);
    client.setDefaultNamespace(kubeconfig);
    client.#timeoutMs = timeoutMs;
    return client;
  }

  /** The URL path of an object (`name` set) or of its collection. */
  async pathOf(ref: ResourceRef): Promise<string> {
    const spec = { apiVersion: ref.apiVersion, kind: ref.kind, metadata: { name: ref.name ?? '', ...(ref.namespace ? { namespace: ref.namespace } : {}) } };
    return this.specUriPath(spec, ref.name ? 'read' : 'list');
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
    const agent = context.getAgent();
    if (agent) context.setAgent(this.#keepAlive(agent));
    const response = await this.configuration.httpApi.send(context).toPromise();
    const text = await response.body.text();
    const body = parseJson(text);
    if (response.httpStatusCode < 200 || response.httpStatusCode > 299) {
      throw new ApiException(response.httpStatusCode, 'Unsuccessful HTTP Request', body, response.headers);
    }
    return body;
  }

  /**
   * client-node makes a new agent, so a new TLS connection with its handshake, for every
   * request. A plain HTTPS agent is swapped for one keep-alive agent with the same TLS
   * settings (made again when they change: rotated client certificates). Proxy and
   * plain-HTTP agents are used as client-node made them.
   */
  #keepAlive(agent: HttpAgent | HttpsAgent): HttpAgent | HttpsAgent {
    if (!(agent instanceof HttpsAgent) || agent.constructor !== HttpsAgent) return agent;
    const { ca, cert, key, pfx, passphrase, rejectUnauthorized, servername } = agent.options;
    const tls = [ca, cert, key, pfx, passphrase, rejectUnauthorized, servername].map(fingerprint).join('|');
    if (this.#pool?.tls !== tls) {
      // The old pool is dropped, not destroyed: its requests finish, its idle sockets time out.
      this.#pool = { agent: new HttpsAgent({ ...agent.options, keepAlive: true, timeout: IDLE_SOCKET_MS }), tls };
    }
    return this.#pool.agent;
  }
}

const IDLE_SOCKET_MS = 30_000;

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
