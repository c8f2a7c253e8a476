import { DelayedError, UnrecoverableError, WaitingChildrenError } from 'bullmq';
import { describe, expect, it } from 'vitest';
import { ProvisionerError, TimeoutError, UpstreamError, UsernameConflictError } from '@kup/core';
import { jobFailure, reportFailures } from './job-failure.js';
import { fakeJob } from './test-job.js';

describe('jobFailure', () => {
  it('takes the retry verdict from the code table unless the error carries its own', () => {
    expect(jobFailure(new ProvisionerError('INVALID_JOB_STATE', 'bad'))).toBeInstanceOf(UnrecoverableError);
    expect(jobFailure(new TimeoutError('namespace deletion', 1))).not.toBeInstanceOf(UnrecoverableError);
    expect(jobFailure(new UpstreamError('keycloak', 'get user', 404))).toBeInstanceOf(UnrecoverableError);
    expect(jobFailure(new UpstreamError('keycloak', 'get user', 503))).not.toBeInstanceOf(UnrecoverableError);
  });

  it('leaves an error it already made as it is', () => {
    const made = jobFailure(new UsernameConflictError('jean'));
    expect(jobFailure(made)).toBe(made);
  });
});

describe('reportFailures', () => {
  it('stores the failure as data in the job, next to its own data, and fails with `CODE: message`', async () => {
    const job = fakeJob('create', { username: 'jean', state: { step: 1 } });
    const run = reportFailures(async () => {
      throw new UsernameConflictError('jean');
    });
    const failure = await run(job, 't', undefined).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(UnrecoverableError);
    expect((failure as Error).message).toBe('USERNAME_CONFLICT: username "jean" already belongs to another user');
    expect(job.data).toEqual({
      username: 'jean',
      state: { step: 1 },
      failure: { code: 'USERNAME_CONFLICT', message: 'username "jean" already belongs to another user' },
    });
  });

  it('stores the failure of an error already turned into a job failure, and of a crash', async () => {
    const job = fakeJob('delete', {});
    await expect(reportFailures(async () => Promise.reject(jobFailure(new ProvisionerError('INVALID_INPUT', 'usernames: required'))))(job, 't', undefined)).rejects.toThrow(
      'INVALID_INPUT: usernames: required',
    );
    expect(job.data).toEqual({ failure: { code: 'INVALID_INPUT', message: 'usernames: required' } });

    await expect(reportFailures(async () => Promise.reject(new TypeError('x is undefined')))(job, 't', undefined)).rejects.toThrow('INTERNAL: x is undefined');
    expect(job.data).toEqual({ failure: { code: 'INTERNAL', message: 'x is undefined' } });
  });

  it('lets BullMQ signals (delayed, waiting for children) through without recording a failure', async () => {
    for (const signal of [new DelayedError(), new WaitingChildrenError()]) {
      const job = fakeJob('sync', { username: 'jean' });
      await expect(reportFailures(async () => Promise.reject(signal))(job, 't', undefined)).rejects.toBe(signal);
      expect(job.dataUpdates).toEqual([]);
    }
  });

  it('still fails the job with its reason when the failure cannot be stored', async () => {
    const job = fakeJob('create', {});
    job.updateData = async () => Promise.reject(new Error('Missing key for job create-x. updateData'));
    await expect(reportFailures(async () => Promise.reject(new UsernameConflictError('jean')))(job, 't', undefined)).rejects.toThrow(/^USERNAME_CONFLICT: /);
  });
});
