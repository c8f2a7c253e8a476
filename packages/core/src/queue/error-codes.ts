import { z } from 'zod';

/**
 * Every code a job can fail with, in one table read by both sides of the queue: the worker
 * (`ProvisionerError` takes its retry verdict from here) and the API (the HTTP status of a
 * failed job under `Prefer: wait`). Adding a code is one line here.
 *
 * `retryable`: whether the worker spends another attempt on it. `'by-status'` codes come from
 * an upstream call whose HTTP status decides (`isRetryableStatus`: none, 408, 429, 5xx).
 * `status`: the caller's mistake or a conflict is a 4xx; an upstream failure is 502.
 */
export const ERROR_CODES = {
  INVALID_INPUT: { status: 400, retryable: false },
  USER_NOT_FOUND: { status: 404, retryable: false },
  COHORT_NOT_FOUND: { status: 404, retryable: false },
  USERNAME_CONFLICT: { status: 409, retryable: false },
  EMAIL_CONFLICT: { status: 409, retryable: false },
  NAMESPACE_CONFLICT: { status: 409, retryable: false },
  NAMESPACE_RESERVED: { status: 409, retryable: false },
  UNMANAGED_USER: { status: 409, retryable: false },
  CONFIRMATION_REQUIRED: { status: 409, retryable: false },
  /** A half-made trainee (no `provisioned`): sync finishes or removes it first. */
  TRAINEE_NOT_PROVISIONED: { status: 409, retryable: false },
  INVALID_JOB_STATE: { status: 502, retryable: false },
  UNKNOWN_JOB: { status: 502, retryable: false },
  STALLED: { status: 502, retryable: false },
  USER_BUSY: { status: 502, retryable: true },
  TIMEOUT: { status: 502, retryable: true },
  KEYCLOAK_ERROR: { status: 502, retryable: 'by-status' },
  KEYCLOAK_UNREACHABLE: { status: 502, retryable: true },
  KUBERNETES_ERROR: { status: 502, retryable: 'by-status' },
  KUBERNETES_UNREACHABLE: { status: 502, retryable: true },
  GRAFANA_ERROR: { status: 502, retryable: 'by-status' },
  GRAFANA_UNREACHABLE: { status: 502, retryable: true },
  REDIS_ERROR: { status: 502, retryable: 'by-status' },
  REDIS_UNREACHABLE: { status: 502, retryable: true },
  /** A webhook receiver did not take a delivery (webhooks queue only). */
  DELIVERY_FAILED: { status: 502, retryable: true },
  /** Not a ProvisionerError (a bug, a crash, a job BullMQ gave up on): retried. */
  INTERNAL: { status: 502, retryable: true },
} as const satisfies Record<string, { status: 400 | 404 | 409 | 502; retryable: boolean | 'by-status' }>;

export type ErrorCode = keyof typeof ERROR_CODES;
export type FailureStatus = (typeof ERROR_CODES)[ErrorCode]['status'];

export function isErrorCode(code: string): code is ErrorCode {
  return Object.hasOwn(ERROR_CODES, code);
}

/** The HTTP status of a failed job; a code this build does not know is an upstream failure. */
export function statusOfFailure(code: string): FailureStatus {
  return isErrorCode(code) ? ERROR_CODES[code].status : 502;
}

/**
 * How a failure crosses the queue: the worker stores it in the job's data (`data.failure`)
 * before the attempt ends, the API reads it back. Shown in Bull Board: the message is the
 * error's own, which never holds a secret.
 */
export const jobFailureData = z.object({
  code: z.string().min(1).max(64),
  message: z.string(),
});
export type JobFailureData = z.infer<typeof jobFailureData>;

/** The `failedReason` BullMQ keeps (and Bull Board shows) for a failure: `CODE: message`. */
export function failedReasonOf(failure: Pick<JobFailureData, 'code' | 'message'>): string {
  return `${failure.code}: ${failure.message}`;
}

/**
 * The `{code, message}` of a failed job, for the API and for a fleet run reading its
 * children. The worker stores it as data (`data.failure`, the worker's `reportFailures`);
 * it is trusted while it describes the job's last failure, i.e. while `failedReason` is its
 * `CODE: message`. Otherwise the job failed without the worker's processor saying why
 * (BullMQ gave up on a stalled job), or before workers stored failures as data: only then is
 * `failedReason` read as text.
 */
export function readJobFailure(job: { data?: unknown; failedReason?: string | undefined }): { code: string; message: string } {
  const stored = jobFailureData.safeParse((job.data as { failure?: unknown } | null | undefined)?.failure);
  if (stored.success && failedReasonOf(stored.data) === job.failedReason) return { code: stored.data.code, message: stored.data.message };
  return parseFailedReason(job.failedReason);
}

/** The text fallback of `readJobFailure`: `CODE: message`, anything else is `INTERNAL`. */
export function parseFailedReason(reason: string | undefined): { code: string; message: string } {
  const text = reason?.trim() || 'the job failed without a reason';
  const match = /^([A-Z][A-Z0-9_]{1,63}): ([\s\S]+)$/.exec(text);
  return match?.[1] && match[2] ? { code: match[1], message: match[2] } : { code: 'INTERNAL', message: text };
}

/** Zod issues as one line, `path: message; …`, under an optional base path. */
export function formatIssues(error: z.ZodError, base = ''): string {
  return error.issues.map((i) => `${[base, ...i.path.map(String)].filter(Boolean).join('.')}: ${i.message}`).join('; ');
}
