import { describe, expect, it } from 'vitest';
import { QUEUES } from '@kup/core';
import { checkRegistry, dispatch } from './job-registry.js';
import { fakeJob } from './processors/test-job.js';

const noop = async () => undefined;
/** Every processor the provisioning queue needs. */
const provisioning = { create: noop, delete: noop, expire: noop, 'set-expiry': noop, 'set-profile': noop, 'reset-password': noop };

describe('job registry', () => {
  it('accepts exactly one processor per job name of the queue', () => {
    expect(() => checkRegistry(QUEUES.provisioning, provisioning)).not.toThrow();
    expect(() => checkRegistry(QUEUES.queries, { query: noop })).not.toThrow();
  });

  it('refuses a queue with a job name left without a processor, or a processor of another queue', () => {
    expect(() => checkRegistry(QUEUES.provisioning, { ...provisioning, delete: undefined })).toThrow(/no processor for delete/);
    expect(() => checkRegistry(QUEUES.provisioning, { ...provisioning, reset: noop })).toThrow(/other queues: reset/);
  });

  it('dispatches by job name and fails unknown names for good', async () => {
    const run = dispatch(QUEUES.provisioning, { ...provisioning, create: async () => 'created', delete: async () => 'deleted' });
    expect(await run(fakeJob('delete', {}), 't', undefined)).toBe('deleted');
    const unknown = fakeJob('explode', { username: 'jean' });
    await expect(run(unknown, 't', undefined)).rejects.toThrow(/^UNKNOWN_JOB: /);
    // The failure crosses the queue as data, for the API; failedReason stays readable.
    expect(unknown.data).toEqual({ username: 'jean', failure: { code: 'UNKNOWN_JOB', message: 'no processor for job "explode" on queue "provisioning"' } });
  });
});
