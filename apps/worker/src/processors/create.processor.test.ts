import { UnrecoverableError } from 'bullmq';
import { describe, expect, it, vi } from 'vitest';
import { ProvisionerError, createLogger, type CreateJobData, type CreateState, type StepContext } from '@kup/core';
import { createProcessor } from './create.processor.js';
import type { ProvisioningProcessorDeps } from './processor.js';
import { fakeJob } from './test-job.js';

const log = createLogger({ name: 'test', level: 'silent' });

function build(create: (input: CreateJobData, ctx: StepContext<CreateState>) => Promise<unknown>) {
  const stored = new Map<string, string>();
  const secrets = {
    putIfAbsent: vi.fn(async (key: string, candidate: string) => {
      if (!stored.has(key)) stored.set(key, candidate);
      return stored.get(key) as string;
    }),
    touch: vi.fn(async () => undefined),
    remove: vi.fn(async (key: string) => void stored.delete(key)),
  };
  const service = { create: vi.fn(create), rollbackCreate: vi.fn(async () => ({ keycloak: true, namespace: true, grafana: true })), delete: vi.fn() };
  const deps = { service, secrets, locks: { withLock: async (_u: string, _h: string, work: () => Promise<unknown>) => work() }, log } as unknown as ProvisioningProcessorDeps;
  return { processor: createProcessor(deps), service, secrets, stored };
}

describe('create processor', () => {
  it('refuses invalid job data for good, without calling the service', async () => {
    const { processor, service } = build(async () => ({}));
    const failure = processor(fakeJob('create', { username: 'Not_A_Label' }), 't', undefined);
    await expect(failure).rejects.toBeInstanceOf(UnrecoverableError);
    await expect(failure).rejects.toThrow(/^INVALID_INPUT: username/);
    expect(service.create).not.toHaveBeenCalled();
  });

  it.each([
    ['owned flags that are not booleans', { owned: { keycloak: 'yes' } }, /^INVALID_JOB_STATE: state\.owned\.keycloak/],
    ['an unknown initial verdict', { initial: 'mine' }, /^INVALID_JOB_STATE: state\.initial/],
    ['a user id that is not an id', { userId: '../admin' }, /^INVALID_JOB_STATE: state\.userId/],
    ['a Grafana id that is not a positive integer', { grafanaUserId: 1.5 }, /^INVALID_JOB_STATE: state\.grafanaUserId/],
    ['a state that is not an object', 'owned', /^INVALID_JOB_STATE: state/],
  ])('refuses a stored state with %s for good: no step, no rollback', async (_, state, reason) => {
    const { processor, service, secrets } = build(async () => ({ passwordIssued: true }));
    const failure = processor(fakeJob('create', { username: 'jean', state }), 't', undefined);
    await expect(failure).rejects.toBeInstanceOf(UnrecoverableError);
    await expect(failure).rejects.toThrow(reason);
    expect(service.create).not.toHaveBeenCalled();
    expect(service.rollbackCreate).not.toHaveBeenCalled();
    expect(secrets.putIfAbsent).not.toHaveBeenCalled();
  });

  it('stores the password once, keeps state in the job data without it, and reports progress', async () => {
    let seen: string[] = [];
    const { processor, secrets, stored } = build(async (_input, ctx) => {
      seen = [await ctx.password(), await ctx.password()];
      await ctx.state.patch({ initial: 'absent', owned: { keycloak: true } });
      await ctx.progress('namespace', 2, 9);
      return { passwordIssued: true };
    });
    const job = fakeJob('create', { username: 'jean', email: 'jean@x.io' });
    await processor(job, 't', undefined);

    expect(secrets.putIfAbsent).toHaveBeenCalledOnce();
    expect(seen[0]).toBe(seen[1]);
    expect(stored.get(`create-x-${job.timestamp}`)).toBe(seen[0]);
    expect(job.data).toEqual({ username: 'jean', email: 'jean@x.io', state: { initial: 'absent', owned: { keycloak: true } } });
    expect(JSON.stringify(job.dataUpdates)).not.toContain(seen[0]);
    expect(job.progressUpdates).toEqual([{ step: 'namespace', done: 2, total: 9 }]);
    expect(secrets.touch).toHaveBeenCalledOnce();
  });

  it('reads back the state a crashed attempt left in the job data', async () => {
    let state: unknown;
    const { processor } = build(async (_input, ctx) => {
      state = ctx.state.get();
      return { passwordIssued: false };
    });
    await processor(fakeJob('create', { username: 'jean', state: { initial: 'partial' } }), 't', undefined);
    expect(state).toEqual({ initial: 'partial' });
  });

  it('rolls back and forgets the password when the job fails for good', async () => {
    const { processor, service, secrets } = build(async (_input, ctx) => {
      await ctx.password();
      throw new ProvisionerError('EMAIL_CONFLICT', 'taken');
    });
    const failure = processor(fakeJob('create', { username: 'jean' }), 't', undefined);
    await expect(failure).rejects.toBeInstanceOf(UnrecoverableError);
    await expect(failure).rejects.toThrow(/^EMAIL_CONFLICT: taken$/);
    expect(service.rollbackCreate).toHaveBeenCalledOnce();
    expect(secrets.remove).toHaveBeenCalledOnce();
  });
});
