import { describe, expect, it } from 'vitest';
import { parseFailedReason } from './failed-reason.js';

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
