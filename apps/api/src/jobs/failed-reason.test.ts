import { describe, expect, it } from 'vitest';
import { statusOfFailure } from '@kup/core';
import { failureOf, parseFailedReason } from './failed-reason.js';

describe('failureOf', () => {
  const failure = { code: 'NAMESPACE_CONFLICT', message: 'namespace "jean" exists: not ours' };

  it('reads the failure the worker stored in the job data, without parsing the reason', () => {
    // A message that the text fallback would cut differently: the data wins.
    const tricky = { code: 'KEYCLOAK_ERROR', message: 'keycloak: answered 500\nCODE: not a code' };
    expect(failureOf({ data: { username: 'jean', failure: tricky }, failedReason: `KEYCLOAK_ERROR: ${tricky.message}` })).toEqual(tricky);
    expect(failureOf({ data: { failure }, failedReason: `NAMESPACE_CONFLICT: ${failure.message}` })).toEqual(failure);
  });

  it('ignores a stored failure that is not the job\'s last one (BullMQ failed the job itself)', () => {
    expect(failureOf({ data: { failure }, failedReason: 'job stalled more than allowable limit' })).toEqual({
      code: 'INTERNAL',
      message: 'job stalled more than allowable limit',
    });
  });

  it('falls back to the reason for jobs failed before failures were stored, or with malformed data', () => {
    expect(failureOf({ data: { username: 'jean' }, failedReason: 'USER_NOT_FOUND: no provisioned user "jean"' })).toEqual({
      code: 'USER_NOT_FOUND',
      message: 'no provisioned user "jean"',
    });
    expect(failureOf({ data: { failure: { code: 42 } }, failedReason: 'TIMEOUT: slow' })).toEqual({ code: 'TIMEOUT', message: 'slow' });
    expect(failureOf({ data: null, failedReason: undefined })).toEqual({ code: 'INTERNAL', message: 'the job failed without a reason' });
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
