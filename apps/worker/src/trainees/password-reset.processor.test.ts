import { describe, expect, it } from 'vitest';
import { createLogger, type PasswordResetService } from '@kup/core';
import { fakeJob } from '../processors/test-job.js';
import { resetPasswordProcessor } from './password-reset.processor.js';

/** The processor over a reset that records the password it was given, with a SecretStore kept in a map. */
function setup() {
  const set: string[] = [];
  const passwords: Pick<PasswordResetService, 'reset'> = {
    reset: async (username, ctx) => {
      set.push(await ctx.password());
      return { username, reset: { keycloak: true, grafana: true }, passwordIssued: true };
    },
  };
  const sealed = new Map<string, string>();
  const touched: string[] = [];
  const secrets = {
    putIfAbsent: async (key: string, candidate: string) => {
      if (!sealed.has(key)) sealed.set(key, candidate);
      return sealed.get(key) as string;
    },
    touch: async (key: string) => void touched.push(key),
  };
  const processor = resetPasswordProcessor({
    passwords,
    secrets,
    locks: { withLock: async (_u: string, _h: string, work: () => Promise<unknown>) => work() } as never,
    log: createLogger({ name: 'test', level: 'silent' }),
  });
  return { processor, sealed, touched, set };
}

describe('reset-password job', () => {
  it('sets a new password sealed under the job\'s key, the same on a retry, and never in its data or result', async () => {
    const { processor, sealed, touched, set } = setup();
    const job = fakeJob('reset-password', { username: 'ana' });
    const result = await processor(job, undefined, undefined);
    expect(result).toEqual({ username: 'ana', reset: { keycloak: true, grafana: true }, passwordIssued: true });
    const password = sealed.get('reset-password-x-1700000000000');
    expect(password).toHaveLength(20);
    expect(set).toEqual([password]);
    expect(touched).toEqual(['reset-password-x-1700000000000']);

    await processor(fakeJob('reset-password', { username: 'ana' }, { attemptsMade: 1 }), undefined, undefined);
    expect(set).toEqual([password, password]);
    expect(JSON.stringify([job.data, job.dataUpdates, result])).not.toContain(password);
  });

  it('fails a job whose data is not a username for good, before anything', async () => {
    const { processor, sealed } = setup();
    await expect(processor(fakeJob('reset-password', { username: 'Not A Name' }), undefined, undefined)).rejects.toThrow(/^INVALID_INPUT: /);
    expect(sealed.size).toBe(0);
  });
});
