import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { scrapeMetrics, type Logger } from '@kup/core';

export interface HealthServerOptions {
  /** 0 picks a free port (tests, several workers on one host). */
  port: number;
  host?: string;
  /** Resolves true when Redis answers a PING in time. */
  redisReady(): Promise<boolean>;
  /** Whether every BullMQ worker of the process is running. */
  workersRunning(): boolean;
  /** WORKER_METRICS_TOKEN: when given, `/metrics` wants `Authorization: Bearer <one of them>`. */
  metricsTokens?: readonly string[] | undefined;
  logger: Logger;
}

type Answer = { status: number; type: string; body: string };
const json = (status: number, body: object): Answer => ({ status, type: 'application/json', body: JSON.stringify(body) });
const sha256 = (value: string): Buffer => createHash('sha256').update(value, 'utf8').digest();

/**
 * The worker's small HTTP port for the kubelet and Prometheus: `/healthz` (the process
 * runs), `/readyz` (Redis answers and the workers run; 503 once shutdown began) and
 * `/metrics`. The probes never want a token (the kubelet sends none); `/metrics` does when
 * WORKER_METRICS_TOKEN is set, since it names queues and trainees' job counts. The
 * NetworkPolicy in k8s/ limits the port to the monitoring namespace besides.
 */
export class HealthServer {
  readonly #options: HealthServerOptions;
  readonly #server: Server;
  /** Digests of the metrics tokens: compared in constant time, over 32 bytes whatever the lengths. */
  readonly #metricsDigests: readonly Buffer[];
  #closing = false;

  constructor(options: HealthServerOptions) {
    this.#options = options;
    this.#metricsDigests = (options.metricsTokens ?? []).map(sha256);
    this.#server = createServer((request, response) => void this.#handle(request, response));
  }

  /** The port listened on (after `start`). */
  get port(): number {
    return (this.#server.address() as AddressInfo | null)?.port ?? 0;
  }

  async start(): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(this.#options.port, this.#options.host ?? '0.0.0.0', () => {
        this.#server.off('error', reject);
        resolve();
      });
    });
    this.#options.logger.info({ port: this.port }, 'health server listening (/healthz, /readyz, /metrics)');
    return this.port;
  }

  /** From now on `/readyz` answers 503, so the pod leaves its Service while jobs finish. */
  markClosing(): void {
    this.#closing = true;
  }

  async close(): Promise<void> {
    this.#closing = true;
    if (!this.#server.listening) return;
    this.#server.closeIdleConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  async #handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    let answer: Answer;
    try {
      answer = await this.#answer(request);
    } catch (error) {
      this.#options.logger.warn({ err: error instanceof Error ? error.message : String(error), path: request.url }, 'health request failed');
      answer = json(500, { status: 'error' });
    }
    const challenge = answer.status === 401 ? { 'www-authenticate': 'Bearer realm="metrics"' } : {};
    response.writeHead(answer.status, { 'content-type': answer.type, 'cache-control': 'no-store', ...challenge }).end(answer.body);
  }

  async #answer(request: IncomingMessage): Promise<Answer> {
    if (request.method !== 'GET' && request.method !== 'HEAD') return json(405, { status: 'method not allowed' });
    switch (new URL(request.url ?? '/', 'http://worker').pathname) {
      case '/healthz':
        return json(200, { status: 'ok' });
      case '/readyz':
        return this.#readiness();
      case '/metrics': {
        if (!this.#metricsAllowed(request.headers.authorization)) return json(401, { status: 'unauthorized' });
        const { contentType, body } = await scrapeMetrics();
        return { status: 200, type: contentType, body };
      }
      default:
        return json(404, { status: 'not found' });
    }
  }

  #metricsAllowed(authorization: string | undefined): boolean {
    if (this.#metricsDigests.length === 0) return true;
    const [scheme = '', token = ''] = (authorization ?? '').trim().split(/\s+(.*)/s);
    if (!/^bearer$/i.test(scheme) || !token.trim()) return false;
    const digest = sha256(token.trim());
    let match = false;
    // Every token compared, no early exit: timing tells nothing about which one matched.
    for (const known of this.#metricsDigests) match = timingSafeEqual(digest, known) || match;
    return match;
  }

  async #readiness(): Promise<Answer> {
    if (this.#closing) return json(503, { status: 'closing' });
    if (!this.#options.workersRunning()) return json(503, { status: 'workers not running' });
    if (!(await this.#options.redisReady())) return json(503, { status: 'redis unavailable' });
    return json(200, { status: 'ready' });
  }
}
