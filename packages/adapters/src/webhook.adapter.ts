import type { WebhookTransport } from '@kup/core';
import { request, type Agent } from 'undici';
import { httpAgent } from './tls.js';

export interface WebhookTransportOptions {
  /** Upper bound of a delivery's timeout (WEBHOOK_TIMEOUT_MS): the pool's own timeouts. */
  timeoutMs: number;
  caFile?: string | undefined;
}

/**
 * Webhook POSTs over undici: one keep-alive pool for all subscriptions, no redirects
 * followed (a subscription's URL is the only place a delivery goes), the answer's body
 * read away and dropped. Errors are re-thrown with their code only: an undici message may
 * quote the URL, and a subscription's URL can hold a token.
 */
export class UndiciWebhookTransport implements WebhookTransport {
  readonly #agent: Agent;

  constructor(options: WebhookTransportOptions) {
    this.#agent = httpAgent({ timeoutMs: options.timeoutMs, caFile: options.caFile });
  }

  async post(url: string, headers: Record<string, string>, body: string, timeoutMs: number): Promise<number> {
    try {
      const response = await request(url, { method: 'POST', headers, body, dispatcher: this.#agent, signal: AbortSignal.timeout(timeoutMs) });
      await response.body.dump();
      return response.statusCode;
    } catch (error) {
      const name = (error as Error).name;
      const code = (error as { code?: string }).code ?? ((error as { cause?: { code?: string } }).cause?.code);
      const timedOut = name === 'TimeoutError' || code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT' || code === 'UND_ERR_CONNECT_TIMEOUT';
      throw new WebhookTransportError(timedOut ? `no answer within ${timeoutMs} ms` : `network error (${code ?? name})`);
    }
  }

  async close(): Promise<void> {
    await this.#agent.close();
  }
}

export class WebhookTransportError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WebhookTransportError';
  }
}
