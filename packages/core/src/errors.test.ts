import { describe, expect, it } from 'vitest';
import {
  describeError,
  InvalidInputError,
  isRetryable,
  isRetryableStatus,
  ProvisionerError,
  TimeoutError,
  UpstreamError,
  UserNotFoundError,
  UsernameConflictError,
} from './errors.js';

describe('isRetryableStatus', () => {
  it.each([
    [undefined, true],
    [408, true],
    [429, true],
    [500, true],
    [502, true],
    [503, true],
    [504, true],
    [400, false],
    [401, false],
    [403, false],
    [404, false],
    [409, false],
    [412, false],
    [422, false],
  ])('%s → %s', (status, expected) => {
    expect(isRetryableStatus(status)).toBe(expected);
  });
});

describe('UpstreamError', () => {
  it('is UNREACHABLE and retryable without a status', () => {
    const cause = new Error('connect ECONNREFUSED 127.0.0.1:8443');
    const error = new UpstreamError('keycloak', 'create user', undefined, { cause });
    expect(error).toBeInstanceOf(ProvisionerError);
    expect(error).toMatchObject({ code: 'KEYCLOAK_UNREACHABLE', retryable: true, system: 'keycloak', status: undefined, cause });
    expect(error.message).toBe('keycloak create user failed');
    expect(error.name).toBe('UpstreamError');
  });

  it('is <SYSTEM>_ERROR with the status and detail, retryable per status', () => {
    const error = new UpstreamError('grafana', 'create user', 412, { detail: 'password too short' });
    expect(error).toMatchObject({ code: 'GRAFANA_ERROR', retryable: false, status: 412 });
    expect(error.message).toBe('grafana create user answered 412: password too short');
    expect(new UpstreamError('kubernetes', 'apply', 503)).toMatchObject({ code: 'KUBERNETES_ERROR', retryable: true });
    expect(new UpstreamError('redis', 'get', 429).retryable).toBe(true);
  });
});

describe('isRetryable', () => {
  it.each([
    ['a conflict', new UsernameConflictError('jean'), false],
    ['a missing user', new UserNotFoundError('jean'), false],
    ['bad input', new InvalidInputError('no email'), false],
    ['a timeout', new TimeoutError('namespace deletion', 120), true],
    ['a 5xx', new UpstreamError('grafana', 'x', 500), true],
    ['a 4xx', new UpstreamError('grafana', 'x', 400), false],
    ['an unknown error (a bug, a crash)', new TypeError('x is undefined'), true],
    ['a thrown string', 'boom', true],
  ])('%s → %s', (_, error, expected) => {
    expect(isRetryable(error)).toBe(expected);
  });
});

describe('describeError', () => {
  it('gives the code and message of project errors', () => {
    expect(describeError(new UsernameConflictError('jean-dupont'))).toEqual({
      code: 'USERNAME_CONFLICT',
      message: 'username "jean-dupont" already belongs to another user',
    });
    expect(describeError(new TimeoutError('namespace deletion', 120))).toEqual({
      code: 'TIMEOUT',
      message: 'namespace deletion did not happen within 120 s',
    });
  });

  it('calls anything else INTERNAL', () => {
    expect(describeError(new Error('oops'))).toEqual({ code: 'INTERNAL', message: 'oops' });
    expect(describeError('boom')).toEqual({ code: 'INTERNAL', message: 'boom' });
    expect(describeError(undefined)).toEqual({ code: 'INTERNAL', message: 'undefined' });
  });
});
