import { DelayedError } from 'bullmq';
import { describe, expect, it } from 'vitest';
import { createLogger, type DeleteJobResult, type ExpiryVerdict } from '@kup/core';
import { fakeJob } from '../processors/test-job.js';
import { expireProcessor } from './expiry.processor.js';

const PAST = '2026-11-26T11:00:00.000Z';
const target = { username: 'ana', userId: 'u-1', grafanaUserId: 7 };

/** The expire processor over a scripted verdict and a delete that records what it was given. */
function setup(verdict: ExpiryVerdict) {
  const asked: string[] = [];
  const deletes: unknown[] = [];
  const processor = expireProcessor({
    expiry: {
      verdict: async (username) => {
        asked.push(username);
        return verdict;
      },
      setExpiry: async () => {
        throw new Error('not used');
      },
    },
    service: {
      delete: async (input, ctx) => {
        deletes.push(structuredClone(ctx.state.get()));
        // As deletePlayground: the target is recorded first (with what was staged before it).
        await ctx.state.patch({ target: ctx.state.get().target ?? target });
        return { username: input.usernames[0], userId: 'u-1', found: true, removed: { namespace: true, keycloak: true, grafana: true } } as DeleteJobResult;
      },
    },
    secrets: { putIfAbsent: async () => 'unused', touch: async () => undefined, remove: async () => undefined },
    locks: { withLock: async (_u: string, _h: string, work: () => Promise<unknown>) => work() } as never,
    log: createLogger({ name: 'test', level: 'silent' }),
  });
  return { processor, asked, deletes };
}

describe('expire job', () => {
  it('deletes past the expiry, recording the expiry that decided it with the delete\'s target', async () => {
    const { processor, deletes } = setup({ action: 'delete', expiresAt: PAST });
    const job = fakeJob('expire', { username: 'ana' });
    expect(await processor(job, undefined, undefined)).toEqual({ username: 'ana', deleted: true, expiresAt: PAST });
    expect(deletes).toHaveLength(1);
    expect(job.dataUpdates).toEqual([{ username: 'ana', state: { expiresAt: PAST, target } }]);
  });

  it('a retry after the first attempt removed the Keycloak user finishes the delete (Grafana), though no managed user is left', async () => {
    const { processor, asked, deletes } = setup({ action: 'skip', result: { username: 'ana', deleted: false, expiresAt: null, skipped: 'no managed user of that name' } });
    const state = { target, removed: { namespace: true, keycloak: true }, expiresAt: PAST };
    const job = fakeJob('expire', { username: 'ana', state }, { attemptsMade: 1 });
    expect(await processor(job, undefined, undefined)).toEqual({ username: 'ana', deleted: true, expiresAt: PAST });
    expect(asked).toEqual([]);
    expect(deletes).toEqual([state]);
  });

  it('a retry whose first attempt chose the target but removed nothing yet still finishes when the user is gone', async () => {
    const { processor, deletes } = setup({ action: 'skip', result: { username: 'ana', deleted: false, expiresAt: null, skipped: 'no managed user of that name' } });
    const job = fakeJob('expire', { username: 'ana', state: { target, expiresAt: PAST } }, { attemptsMade: 1 });
    expect(await processor(job, undefined, undefined)).toMatchObject({ deleted: true, expiresAt: PAST });
    expect(deletes).toHaveLength(1);
  });

  it('a retry that removed nothing yet, of a trainee extended meanwhile, waits and forgets the delete it had begun', async () => {
    const dueAt = Date.parse('2026-12-24T00:00:00.000Z');
    const { processor, deletes } = setup({ action: 'wait', dueAt, expiresAt: '2026-12-24T00:00:00.000Z' });
    const job = fakeJob('expire', { username: 'ana', state: { target, expiresAt: PAST } }, { attemptsMade: 1 });
    await expect(processor(job, undefined, undefined)).rejects.toBeInstanceOf(DelayedError);
    expect(deletes).toEqual([]);
    expect(job.delayedUntil).toBe(dueAt);
    expect(job.data).toEqual({ username: 'ana', dueAt: '2026-12-24T00:00:00.000Z' });
  });

  it('no managed user and nothing begun: done, nothing deleted', async () => {
    const skipped = { username: 'ana', deleted: false, expiresAt: null, skipped: 'no managed user of that name' };
    const { processor, deletes } = setup({ action: 'skip', result: skipped });
    expect(await processor(fakeJob('expire', { username: 'ana' }), undefined, undefined)).toEqual(skipped);
    expect(deletes).toEqual([]);
  });
});
