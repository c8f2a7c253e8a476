import { failedReasonOf, jobFailureData } from '@kup/core';

/**
 * The `{code, message}` of a failed job. The worker stores it as data (`data.failure`, see
 * `reportFailures` in the worker); it is trusted while it describes the job's last failure,
 * i.e. while `failedReason` is its `CODE: message`. Otherwise the job failed without the
 * worker's processor saying why (BullMQ gave up on a stalled job), or before workers stored
 * failures: then `failedReason` is read as text.
 */
export function failureOf(job: { data?: unknown; failedReason?: string }): { code: string; message: string } {
  const stored = jobFailureData.safeParse((job.data as { failure?: unknown } | null | undefined)?.failure);
  if (stored.success && failedReasonOf(stored.data) === job.failedReason) return { code: stored.data.code, message: stored.data.message };
  return parseFailedReason(job.failedReason);
}

/**
 * Fallback for jobs failed before workers stored `data.failure` (and for reasons BullMQ
 * writes itself): workers failed jobs with `CODE: message`; anything else is `INTERNAL`.
 */
export function parseFailedReason(reason: string | undefined): { code: string; message: string } {
  const text = reason?.trim() || 'the job failed without a reason';
  const match = /^([A-Z][A-Z0-9_]{1,63}): ([\s\S]+)$/.exec(text);
  return match?.[1] && match[2] ? { code: match[1], message: match[2] } : { code: 'INTERNAL', message: text };
}
