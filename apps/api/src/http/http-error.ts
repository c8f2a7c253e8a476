/**
 * Errors the API answers with a status of its own choosing. The message is shown to the
 * caller for 4xx, so it must never hold a secret; 5xx answers stay generic.
 */
export class HttpError extends Error {
  readonly statusCode: number;
  readonly code: string | undefined;

  constructor(statusCode: number, message: string, code?: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'HttpError';
    this.statusCode = statusCode;
    this.code = code;
  }
}

/** Redis, and so the queue, cannot be reached: nothing was enqueued. */
export class QueueUnavailableError extends HttpError {
  constructor(cause?: unknown) {
    super(503, 'Queue unavailable', 'QUEUE_UNAVAILABLE', { cause });
    this.name = 'QueueUnavailableError';
  }
}
