import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ProvisionerError, UpstreamError } from '../errors.js';
import { ERROR_CODES, failedReasonOf, formatIssues, isErrorCode, parseFailedReason, readJobFailure, statusOfFailure } from './error-codes.js';

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


describe('readJobFailure', () => {
  const failure = { code: 'NAMESPACE_CONFLICT', message: 'namespace "jean" exists: not ours' };

  it('reads the failure the worker stored in the job data, without parsing the reason', () => {
    // A message that the text fallback would cut differently: the data wins.
    const tricky = { code: 'KEYCLOAK_ERROR', message: 'keycloak: answered 500\nCODE: not a code' };
    expect(readJobFailure({ data: { username: 'jean', failure: tricky }, failedReason: `KEYCLOAK_ERROR: ${tricky.message}` })).toEqual(tricky);
    expect(readJobFailure({ data: { failure }, failedReason: `NAMESPACE_CONFLICT: ${failure.message}` })).toEqual(failure);
  });

  it('ignores a stored failure that is not the job\'s last one (BullMQ failed the job itself)', () => {
    expect(readJobFailure({ data: { failure }, failedReason: 'job stalled more than allowable limit' })).toEqual({
      code: 'INTERNAL',
      message: 'job stalled more than allowable limit',
    });
  });

  it('falls back to the reason for jobs failed before failures were stored, or with malformed data', () => {
    expect(readJobFailure({ data: { username: 'jean' }, failedReason: 'USER_NOT_FOUND: no provisioned user "jean"' })).toEqual({
      code: 'USER_NOT_FOUND',
      message: 'no provisioned user "jean"',
    });
    expect(readJobFailure({ data: { failure: { code: 42 } }, failedReason: 'TIMEOUT: slow' })).toEqual({ code: 'TIMEOUT', message: 'slow' });
    expect(readJobFailure({ data: null, failedReason: undefined })).toEqual({ code: 'INTERNAL', message: 'the job failed without a reason' });
  });
});

describe('parseFailedReason', () => {
  it('splits the worker\'s `CODE: message`', () => {
    expect(parseFailedReason('USERNAME_CONFLICT: username "jean" already belongs to another user')).toEqual({
      code: 'USERNAME_CONFLICT',
      message: 'username "jean" already belongs to another user',
    });
  });

  it.each(['TypeError: x is undefined', 'job stalled more than allowable limit', 'lower: case', ''])('anything else is INTERNAL: %j', (reason) => {
    const parsed = parseFailedReason(reason);
    expect(parsed.code).toBe('INTERNAL');
    expect(parsed.message).toBe(reason || 'the job failed without a reason');
  });
});

describe('statusOfFailure', () => {
  it.each([
    ['USERNAME_CONFLICT', 409],
    ['EMAIL_CONFLICT', 409],
    ['NAMESPACE_CONFLICT', 409],
    ['NAMESPACE_RESERVED', 409],
    ['UNMANAGED_USER', 409],
    ['USER_NOT_FOUND', 404],
    ['CONFIRMATION_REQUIRED', 409],
    ['INVALID_INPUT', 400],
    ['KEYCLOAK_ERROR', 502],
    ['INVALID_JOB_STATE', 502],
    ['STALLED', 502],
    ['INTERNAL', 502],
    ['A_CODE_FROM_A_NEWER_WORKER', 502],
  ])('%s → %i', (code, status) => {
    expect(statusOfFailure(code)).toBe(status);
  });
});
