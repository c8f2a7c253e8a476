import { describe, expect, it } from 'vitest';
import { createLogger, JOBS, type SyncUserResult } from '@kup/core';
import { fleetUserProcessors, type FleetUserProcessorDeps } from './fleet-user.processor.js';
import { fakeJob } from './test-job.js';

const found: SyncUserResult = {
  username: 'ana',
  fixedGrafana: false,
  fixedNamespace: false,
  fixedProvisioned: false,
  rolledBack: false,
  passwordIssued: false,
  dryRun: true,
  repairs: ['grafana: account missing: it would be created'],
};

/** The sync child with every write it could make recorded. */
function setup(result: SyncUserResult, expireJobMissing: boolean) {
  const writes: string[] = [];
  const asked: unknown[] = [];
  const deps: FleetUserProcessorDeps = {
    reset: {} as never,
    cleanup: {} as never,
    sync: {
      sync: async (_username, _ctx, request) => {
        asked.push(request);
        return result;
      },
    },
    secrets: {
      putIfAbsent: async () => void writes.push('secret put') as never,
      touch: async () => void writes.push('secret touch'),
      remove: async () => void writes.push('secret remove'),
    },
    locks: { withLock: async (_u: string, _h: string, work: () => Promise<unknown>) => work() } as never,
    log: createLogger({ name: 'test', level: 'silent' }),
    expiry: {
      ensure: async () => {
        writes.push('expire job added');
        return true;
      },
      isMissing: async () => expireJobMissing,
    },
  };
  const processor = fleetUserProcessors(deps)[JOBS.syncUser]!;
  const run = (data: Record<string, unknown>) => processor(fakeJob(JOBS.syncUser, { runId: 'r1', username: 'ana', ...data }), undefined, undefined);
  return { writes, asked, run };
}

describe('sync-user child, dry run', () => {
  it('asks the service for a dry run, adds a missing expire job to the repairs, and writes nothing', async () => {
    const { writes, asked, run } = setup(found, true);
    const result = (await run({ dryRun: true })) as SyncUserResult;
    expect(asked).toEqual([{ resetPasswords: false, dryRun: true }]);
    expect(result.repairs).toEqual([...(found.repairs ?? []), 'expiry: expire job missing: it would be added']);
    expect(writes).toEqual([]);
  });

  it('a user it would roll back or fail on gets no expiry repair', async () => {
    const rollback = { ...found, repairs: ['rollback: half-made user cannot be finished (USERNAME_CONFLICT: x): it would be deleted'] };
    const failing = { ...found, error: 'NAMESPACE_CONFLICT: not ours' };
    for (const result of [rollback, failing]) {
      const { writes, run } = setup(result, true);
      expect(((await run({ dryRun: true })) as SyncUserResult).repairs).toEqual(result.repairs);
      expect(writes).toEqual([]);
    }
  });

  it('a real sync child still re-creates the expire job and drops its unused secret', async () => {
    const { dryRun: _dryRun, repairs: _repairs, ...nothingToFix } = found;
    const { writes, asked, run } = setup(nothingToFix, true);
    await run({});
    expect(asked).toEqual([{ resetPasswords: false }]);
    expect(writes).toEqual(['secret remove', 'expire job added']);
  });
});
