/** How the worker POSTs a signed webhook. Implemented by `packages/adapters/src/webhook.adapter.ts`. */
export interface WebhookTransport {
  /**
   * POSTs `body` with `headers`; resolves with the HTTP status (redirects are not followed:
   * a 3xx is an answer like any other). Rejects on network errors and after `timeoutMs`.
   */
  post(url: string, headers: Record<string, string>, body: string, timeoutMs: number): Promise<number>;
  close?(): Promise<void>;
}
