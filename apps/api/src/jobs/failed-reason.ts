/**
 * The worker fails jobs with `CODE: message` (see `describeError` in core). Anything
 * else (a crash, a stalled job given up) is reported as `INTERNAL`.
 */
export function parseFailedReason(reason: string | undefined): { code: string; message: string } {
  const text = reason?.trim() || 'the job failed without a reason';
  const match = /^([A-Z][A-Z0-9_]{1,63}): ([\s\S]+)$/.exec(text);
  return match?.[1] && match[2] ? { code: match[1], message: match[2] } : { code: 'INTERNAL', message: text };
}

const CONFLICTS = new Set(['USERNAME_CONFLICT', 'EMAIL_CONFLICT', 'NAMESPACE_CONFLICT', 'NAMESPACE_RESERVED', 'UNMANAGED_USER']);

/**
 * The HTTP status a `Prefer: wait` answer gives a failed job: the caller's own mistake
 * or a conflict is a 4xx; anything else means an upstream system failed (502).
 */
export function statusOfFailure(code: string): 400 | 404 | 409 | 502 {
  if (CONFLICTS.has(code) || code === 'CONFIRMATION_REQUIRED') return 409;
  if (code === 'USER_NOT_FOUND') return 404;
  if (code === 'INVALID_INPUT') return 400;
  return 502;
}
