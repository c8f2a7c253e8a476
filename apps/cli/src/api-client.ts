import { request, type Dispatcher } from 'undici';
import type { components, paths } from './generated/api.js';

export interface ApiResponse {
  status: number;
  body: unknown;
}

// The shapes below come from the API's own OpenAPI document (generated/api.ts, made by
// `npm run openapi:types`): a route or schema the API changes breaks this build, not a user.
type Method = 'get' | 'post' | 'delete';
type Operation<P extends keyof paths, M extends Method> = NonNullable<paths[P][M]>;
type JsonOf<R> = R extends { content: { 'application/json': infer B } } ? B : never;
/** The JSON body the API answers on `path` with `status`. */
export type Answer<P extends keyof paths, M extends Method, S extends keyof Operation<P, M>['responses']> = JsonOf<Operation<P, M>['responses'][S]>;
/** The JSON body `path` takes. */
export type RequestBody<P extends keyof paths, M extends Method> = Operation<P, M> extends { requestBody?: infer R } ? JsonOf<NonNullable<R>> : never;

/** The job view of `GET /jobs/:id`; `result` read loosely, as its shape depends on the job type. */
export type JobView = Omit<components['schemas']['Job'], 'result'> & { result?: Record<string, unknown> };

/** An answer the CLI cannot go on with: shown as its message, exit code 1 (2 for a 400). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/**
 * The API's refusal as the CLI shows it: its message, with each field's reason (`details`)
 * or each bad CSV row (`rows`) when it gives them.
 */
export function apiErrorOf(response: ApiResponse): ApiError {
  const body = response.body as { message?: string; details?: { path: string; message: string }[]; rows?: { row: number; reason: string }[] } | undefined;
  const message = body?.message ?? `HTTP ${response.status}`;
  if (body?.details?.length) return new ApiError(response.status, `${message}: ${body.details.map((d) => `${d.path}: ${d.message}`).join('; ')}`);
  if (body?.rows?.length) return new ApiError(response.status, `${message}\n${body.rows.map((r) => `  row ${r.row} (line ${r.row + 1}): ${r.reason}`).join('\n')}`);
  return new ApiError(response.status, message);
}

/** The provisioner's REST API over undici, with `Authorization: Bearer <token>`. */
export class ApiClient {
  constructor(
    private readonly baseUrl: string,
    private readonly token: string,
    private readonly options: { dispatcher?: Dispatcher; timeoutMs?: number } = {},
  ) {}

  /** `body`: an object is sent as JSON; a string as it is (say its type in `headers`, e.g. `text/csv`). */
  async call(method: Dispatcher.HttpMethod, path: string, body?: object | string, headers: Record<string, string> = {}): Promise<ApiResponse> {
    const url = new URL(path, this.baseUrl.endsWith('/') ? this.baseUrl : `${this.baseUrl}/`);
    let response: Dispatcher.ResponseData;
    try {
      response = await request(url, {
        method,
        headers: {
          authorization: `Bearer ${this.token}`,
          accept: 'application/json',
          // The CLI follows jobs itself: never held by the API's DEFAULT_PREFER_WAIT_SECONDS.
          prefer: 'respond-async',
          ...(body ? { 'content-type': 'application/json' } : {}),
          ...headers,
        },
        ...(body ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
        ...(this.options.dispatcher ? { dispatcher: this.options.dispatcher } : {}),
        headersTimeout: this.options.timeoutMs ?? 90_000,
        bodyTimeout: this.options.timeoutMs ?? 90_000,
      });
    } catch (error) {
      throw new ApiError(0, `cannot reach ${url.origin}: ${error instanceof Error ? error.message : String(error)}`);
    }
    const text = await response.body.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // not JSON: keep the text
    }
    return { status: response.statusCode, body: parsed };
  }

  /** Like `call`, but a status outside `expected` is an ApiError with the API's message. */
  async expect(expected: number[], method: Dispatcher.HttpMethod, path: string, body?: object): Promise<ApiResponse> {
    const response = await this.call(method, path, body);
    if (!expected.includes(response.status)) throw apiErrorOf(response);
    return response;
  }

  /**
   * A call typed by the OpenAPI document: `path` is a route of the document (`/jobs/{id}`,
   * parameters from `params`), `body` its request body, the answer its body for the status.
   */
  async send<P extends keyof paths, M extends Method, S extends keyof Operation<P, M>['responses'] & number>(
    expected: readonly S[],
    method: M,
    path: P,
    options: { params?: Record<string, string>; body?: RequestBody<P, M> } = {},
  ): Promise<Answer<P, M, S>> {
    // Relative to the base URL (which may carry a path prefix of its own).
    const relative = path.slice(1).replace(/\{(\w+)\}/g, (_, name: string) => encodeURIComponent(options.params?.[name] ?? ''));
    const verb = method.toUpperCase() as Dispatcher.HttpMethod;
    return (await this.expect(expected as readonly number[] as number[], verb, relative, options.body as object | undefined)).body as Answer<P, M, S>;
  }

  async job(id: string): Promise<JobView> {
    return this.send([200], 'get', '/jobs/{id}', { params: { id } });
  }
}
