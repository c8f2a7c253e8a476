import { describe, expect, it } from 'vitest';
import { parseFailedReason, statusOfFailure } from './failed-reason.js';

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
    ['INVALID_INPUT', 400],
    ['KEYCLOAK_ERROR', 502],
    ['INTERNAL', 502],
  ])('%s → %i', (code, status) => {
    expect(statusOfFailure(code)).toBe(status);
  });
});
