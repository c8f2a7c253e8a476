import { UpstreamError } from '../errors.js';

/**
 * Small in-memory stand-ins for the three ports, for unit tests of the domain services.
 * Each counts its calls and can be told to fail a method (`failOn`), to simulate a crash
 * or an upstream refusal at any step.
 */
export abstract class Fake {
  readonly calls: string[] = [];
  #failures = new Map<string, { error: Error; times: number }>();

  /** The next `times` calls of `method` throw `error` (default: a retryable 503). */
  failOn(method: string, error: Error = new UpstreamError('keycloak', method, 503), times = 1): void {
    this.#failures.set(method, { error, times });
  }

  protected call(method: string): void {
    this.calls.push(method);
    const failure = this.#failures.get(method);
    if (failure && failure.times > 0) {
      failure.times -= 1;
      throw failure.error;
    }
  }

  count(method: string): number {
    return this.calls.filter((c) => c === method).length;
  }
}
