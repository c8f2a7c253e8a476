/**
 * The worker fails jobs with `CODE: message` (see `describeError` in core). Anything
 * else (a crash, a stalled job given up) is reported as `INTERNAL`.
 */
export function parseFailedReason(reason: string | undefined): { code: string; message: string } {
  const text = reason?.trim() || 'the job failed without a reason';
  const match = /^([A-Z][A-Z0-9_]{1,63}): ([\s\S]+)$/.exec(text);
  return match?.[1] && match[2] ? { code: match[1], message: match[2] } : { code: 'INTERNAL', message: text };
}
