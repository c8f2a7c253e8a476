import { ERROR_CODES, type ErrorCode, type JobFailureData } from './queue/error-codes.js';

/**
 * The project's errors. Each has a stable `code` from the contract's table (`ERROR_CODES`)
 * that reaches API callers (`GET /jobs/:id` → `error.code`) and a `retryable` verdict, the
 * table's unless given, that the worker turns into a BullMQ retry or an
 * `UnrecoverableError`. Adapters translate vendor errors into these and keep the original
 * as `cause`; messages never contain secrets.
 */
export class ProvisionerError extends Error {
  readonly code: ErrorCode;
  readonly retryable: boolean;

  constructor(code: ErrorCode, message: string, options: { retryable?: boolean; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.retryable = options.retryable ?? ERROR_CODES[code].retryable === true;
  }
}

/** The username belongs to somebody else (another email): never taken over. */
export class UsernameConflictError extends ProvisionerError {
  constructor(username: string) {
    super('USERNAME_CONFLICT', `username "${username}" already belongs to another user`);
  }
}

/**
 * The username would give a namespace that a platform component may want
 * (`RESERVED_NAMESPACES`): refused before anything is made.
 */
export class NamespaceReservedError extends ProvisionerError {
  constructor(namespace: string, pattern: string) {
    super('NAMESPACE_RESERVED', `namespace "${namespace}" is reserved for the platform (RESERVED_NAMESPACES: ${pattern}); use another email or full name`);
  }
}

export class UserNotFoundError extends ProvisionerError {
  constructor(username: string) {
    super('USER_NOT_FOUND', `no provisioned user "${username}"`);
  }
}

/** A managed trainee a create has not finished (or left half-made): sync finishes or removes it. */
export class TraineeNotProvisionedError extends ProvisionerError {
  constructor(username: string, what: string) {
    super('TRAINEE_NOT_PROVISIONED', `trainee "${username}" is not fully provisioned: run POST /sync {"username": "${username}"} first, then ${what} again`);
  }
}

export class InvalidInputError extends ProvisionerError {
  constructor(message: string) {
    super('INVALID_INPUT', message);
  }
}

export type UpstreamSystem = 'keycloak' | 'kubernetes' | 'grafana' | 'redis';

/**
 * A call to an upstream system failed. Network errors, timeouts, 5xx and 429 are
 * retryable; any other status is permanent.
 */
export class UpstreamError extends ProvisionerError {
  readonly system: UpstreamSystem;
  readonly status: number | undefined;

  constructor(system: UpstreamSystem, operation: string, status: number | undefined, options: { cause?: unknown; detail?: string } = {}) {
    const what = status === undefined ? 'failed' : `answered ${status}`;
    const detail = options.detail ? `: ${options.detail}` : '';
    const code = `${system.toUpperCase() as Uppercase<UpstreamSystem>}_${status === undefined ? 'UNREACHABLE' : 'ERROR'}` as const;
    super(code, `${system} ${operation} ${what}${detail}`, {
      retryable: isRetryableStatus(status),
      cause: options.cause,
    });
    this.system = system;
    this.status = status;
  }
}

/** The one place that decides what is worth retrying. */
export function isRetryableStatus(status: number | undefined): boolean {
  return status === undefined || status === 408 || status === 429 || status >= 500;
}

/** A namespace did not finish terminating within its deadline: worth another attempt. */
export class TimeoutError extends ProvisionerError {
  constructor(what: string, seconds: number) {
    super('TIMEOUT', `${what} did not happen within ${seconds} s`, { retryable: true });
  }
}

/** Whether a failure should be retried; unknown errors (bugs, crashes) are retried. */
export function isRetryable(error: unknown): boolean {
  return error instanceof ProvisionerError ? error.retryable : true;
}

/** The `{code, message}` shown to API callers for a failed job. */
export function describeError(error: unknown): JobFailureData {
  if (error instanceof ProvisionerError) return { code: error.code, message: error.message };
  return { code: 'INTERNAL', message: error instanceof Error ? error.message : String(error) };
}
