import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ProvisionerError, UpstreamError } from '../errors.js';
import { ERROR_CODES, failedReasonOf, formatIssues, isErrorCode, statusOfFailure } from './error-codes.js';

describe('ERROR_CODES', () => {
  it('gives each error its retry verdict from the table', () => {
    expect(new ProvisionerError('TIMEOUT', 'slow').retryable).toBe(true);
    expect(new ProvisionerError('USER_NOT_FOUND', 'no').retryable).toBe(false);
    expect(new ProvisionerError('USER_BUSY', 'busy').retryable).toBe(true);
    // Upstream codes are decided by the upstream's status.
    expect(new UpstreamError('grafana', 'create user', 429).retryable).toBe(true);
    expect(new UpstreamError('grafana', 'create user', 403).retryable).toBe(false);
    expect(new UpstreamError('grafana', 'create user', undefined).code).toBe('GRAFANA_UNREACHABLE');
  });

  it('knows every code an upstream error can have', () => {
    for (const system of ['keycloak', 'kubernetes', 'grafana', 'redis'] as const) {
      for (const status of [undefined, 500]) expect(isErrorCode(new UpstreamError(system, 'x', status).code)).toBe(true);
    }
  });

  it('maps codes to HTTP statuses; an unknown code is an upstream failure', () => {
    expect(statusOfFailure('USERNAME_CONFLICT')).toBe(409);
    expect(statusOfFailure('USER_NOT_FOUND')).toBe(404);
    expect(statusOfFailure('INVALID_INPUT')).toBe(400);
    expect(statusOfFailure('toString')).toBe(502);
    expect(statusOfFailure('SOMETHING_NEW')).toBe(502);
    expect(Object.values(ERROR_CODES).every((entry) => [400, 404, 409, 502].includes(entry.status))).toBe(true);
  });

  it('writes failures as `CODE: message` and zod issues as one line', () => {
    expect(failedReasonOf({ code: 'TIMEOUT', message: 'slow' })).toBe('TIMEOUT: slow');
    const parsed = z.object({ a: z.object({ b: z.string() }), c: z.number() }).safeParse({ a: { b: 1 } });
    expect(parsed.success).toBe(false);
    if (!parsed.success) {
      expect(formatIssues(parsed.error)).toMatch(/^a\.b: .+; c: .+$/);
      expect(formatIssues(parsed.error, 'state')).toMatch(/^state\.a\.b: .+; state\.c: .+$/);
    }
  });
});
