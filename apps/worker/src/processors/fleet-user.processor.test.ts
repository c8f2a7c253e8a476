import { describe, expect, it } from 'vitest';
import { createLogger, JOBS, type Logger, type SyncUserResult } from '@kup/core';
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
function setup(result: SyncUserResult, expireJobMissing: boolean, log: Logger = createLogger({ name: 'test', level: 'silent' })) {
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
    log,
    expiry: {
      ensure: async () => {
        writes.push('expire job added');
        return true;
      },
      isMissing: async () => expireJobMissing,
    },
  };
  const processor = fleetUserProcessors(deps)[JOBS.syncUser]!;
  const job = (data: Record<string, unknown>, options?: Parameters<typeof fakeJob>[2]) => fakeJob(JOBS.syncUser, { runId: 'r1', username: 'ana', ...data }, options);
  const run = (data: Record<string, unknown>) => processor(job(data), undefined, undefined);
  return { writes, asked, run, job, processor };
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

describe('sync-user child, as a job', () => {
  it('logs under its run (parentId, after the trainee) and leaves the stall limit to BullMQ', async () => {
    const lines: Record<string, unknown>[] = [];
    const log = createLogger({ name: 'test', level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) });
    const { dryRun: _dryRun, repairs: _repairs, ...nothingToFix } = found;
    const { writes, job, processor } = setup(nothingToFix, true, log);
    // Interrupted far more often than any WORKER_MAX_STALLED_COUNT: the child still runs its work.
    const child = Object.assign(job({}, { stalledCounter: 1_000, attemptsMade: 1 }), { parent: { id: 'run-1', queueKey: 'bull:fleet' } });
    await processor(child, undefined, undefined);
    expect(writes).toEqual(['secret remove', 'expire job added']);
    const line = lines.find((l) => l.msg === 'expire job was missing: re-created');
    expect(line).toMatchObject({ jobId: `${JOBS.syncUser}-x`, username: 'ana', parentId: 'run-1', attempt: 2 });
    const keys = Object.keys(line ?? {});
    expect(keys.indexOf('username')).toBeLessThan(keys.indexOf('parentId'));
    expect(keys.indexOf('parentId')).toBeLessThan(keys.indexOf('attempt'));
  });
});
