import { request, type Dispatcher } from 'undici';

export interface ApiResponse {
  status: number;
  body: unknown;
}

/** The job view of `GET /jobs/:id`, as far as the CLI reads it. */
export interface JobView {
  id: string;
  type: string;
  state: string;
  progress: { step: string; done: number; total: number };
  attemptsMade: number;
  result?: Record<string, unknown>;
  error?: { code: string; message: string };
}

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

/** The provisioner's REST API over undici, with `Authorization: Bearer <token>`. */
export class ApiClient {
  constructor(
    private readonly baseUrl: string,
    private readonly token: string,
    private readonly options: { dispatcher?: Dispatcher; timeoutMs?: number } = {},
  ) {}

  async call(method: Dispatcher.HttpMethod, path: string, body?: object, headers: Record<string, string> = {}): Promise<ApiResponse> {
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
        ...(body ? { body: JSON.stringify(body) } : {}),
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
    if (!expected.includes(response.status)) {
      const message = (response.body as { message?: string } | undefined)?.message ?? `HTTP ${response.status}`;
      const details = (response.body as { details?: { path: string; message: string }[] } | undefined)?.details;
      throw new ApiError(response.status, details?.length ? `${message}: ${details.map((d) => `${d.path}: ${d.message}`).join('; ')}` : message);
    }
    return response;
  }

  async job(id: string): Promise<JobView> {
    return (await this.expect([200], 'GET', `jobs/${encodeURIComponent(id)}`)).body as JobView;
  }
}
