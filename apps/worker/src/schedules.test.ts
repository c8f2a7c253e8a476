import { describe, expect, it } from 'vitest';
import { workerEnv } from '@kup/core';
import { desiredSchedules, ensureSchedules, recheckSchedules, type EnsureSchedulesDeps, type ScheduleConfig } from './schedules.js';

const config = (overrides: Partial<ScheduleConfig> = {}): ScheduleConfig => {
  const defaults = workerEnv.pick({
    SCHEDULE_TZ: true,
    RESET_SCHEDULE: true,
    RESET_SCHEDULE_ENABLED: true,
    RESET_SCHEDULE_MODE: true,
    CLEANUP_SCHEDULE: true,
    CLEANUP_SCHEDULE_ENABLED: true,
    SYNC_SCHEDULE: true,
    SYNC_SCHEDULE_ENABLED: true,
  }).parse({});
  return { ...defaults, ...overrides };
};

const LOCK = 'p:lock:schedules';

/**
 * A queue and Redis in memory: enough of BullMQ's scheduler calls and SET NX.
 * `lockHeldByOther(polls)` plays another process that holds the schedules lock and lets it
 * go once this one has found it held `polls` times, so the wait ends by what the waiter does,
 * not by a timer racing it.
 */
function fakes() {
  const schedulers = new Map<string, { pattern?: string; tz?: string }>();
  const keys = new Map<string, string>();
  let upserts = 0;
  let lockPolls = 0;
  let releaseAfter = Infinity;
  const queue: EnsureSchedulesDeps['queue'] = {
    upsertJobScheduler: (async (id: string, repeat: { pattern?: string; tz?: string }) => {
      upserts += 1;
      schedulers.set(id, { pattern: repeat.pattern, tz: repeat.tz });
    }) as never,
    removeJobScheduler: async (id: string) => schedulers.delete(id),
    getJobSchedulers: (async () => [...schedulers].map(([key, s]) => ({ key, id: key, name: key, ...s, next: 0 }))) as never,
  };
  const redis = {
    set: async (key: string, value: string) => (keys.has(key) ? null : (keys.set(key, value), 'OK')),
    eval: async (_script: string, _n: number, key: string, holder: string) => (keys.get(key) === holder ? (keys.delete(key), 1) : 0),
    exists: async (key: string) => {
      if (!keys.has(key)) return 0;
      if (key === LOCK && ++lockPolls >= releaseAfter) keys.delete(key);
      return 1;
    },
  } as unknown as EnsureSchedulesDeps['redis'];
  const lockHeldByOther = (polls: number) => {
    keys.set(LOCK, 'other');
    releaseAfter = polls;
  };
  return { schedulers, keys, queue, redis, upserts: () => upserts, lockPolls: () => lockPolls, lockHeldByOther };
}

const log = { info: () => undefined, warn: () => undefined };

describe('desiredSchedules', () => {
  it('by default: reset monthly, cleanup daily (expiresAt honoured within a day), sync off, UTC', () => {
    expect(desiredSchedules(config())).toEqual([
      { id: 'reset', enabled: true, pattern: '0 0 1 * *', tz: 'UTC', data: { mode: 'recreate' } },
      { id: 'cleanup', enabled: true, pattern: '0 0 * * *', tz: 'UTC', data: {} },
      { id: 'sync', enabled: false, pattern: '0 3 * * *', tz: 'UTC', data: {} },
    ]);
  });
});

describe('ensureSchedules', () => {
  it('upserts the enabled ones, removes the disabled ones, releases its lock, reports ok', async () => {
    const f = fakes();
    f.schedulers.set('sync', { pattern: '0 3 * * *', tz: 'UTC' });
    const checks = await ensureSchedules(config({ SCHEDULE_TZ: 'Europe/Paris', RESET_SCHEDULE_MODE: 'purge' }), { ...f, prefix: 'p', log });
    expect([...f.schedulers.keys()].sort()).toEqual(['cleanup', 'reset']);
    expect(f.schedulers.get('reset')).toEqual({ pattern: '0 0 1 * *', tz: 'Europe/Paris' });
    expect(checks.every((c) => c.ok)).toBe(true);
    expect(f.keys.size).toBe(0);
  });

  it('does not upsert while another process holds the lock; it checks what that one wrote', async () => {
    const f = fakes();
    f.lockHeldByOther(2);
    f.schedulers.set('reset', { pattern: '0 0 1 * *', tz: 'UTC' });
    f.schedulers.set('cleanup', { pattern: '0 0 * * *', tz: 'UTC' });
    const checks = await ensureSchedules(config(), { ...f, prefix: 'p', log, lockTtlMs: 5_000 });
    expect(f.lockPolls()).toBe(2); // it waited until the other process let go
    expect(f.upserts()).toBe(0);
    expect(checks.map((c) => [c.id, c.ok])).toEqual([
      ['reset', true],
      ['cleanup', true],
      ['sync', true],
    ]);
  });

  it('a disagreeing scheduler is put right in a second round', async () => {
    const f = fakes();
    f.lockHeldByOther(1);
    const checks = await ensureSchedules(config(), { ...f, prefix: 'p', log, lockTtlMs: 5_000 });
    expect(f.lockPolls()).toBe(1);
    expect(f.upserts()).toBe(2);
    expect(f.keys.size).toBe(0);
    expect(checks.every((c) => c.ok)).toBe(true);
  });
});

describe('recheckSchedules', () => {
  it('does nothing while Redis holds what the configuration asks for', async () => {
    const f = fakes();
    await ensureSchedules(config(), { ...f, prefix: 'p', log });
    const before = f.upserts();
    expect(await recheckSchedules(config(), { ...f, prefix: 'p', log })).toBeUndefined();
    expect(f.upserts()).toBe(before);
  });

  it('puts back a changed pattern and a scheduler removed by hand', async () => {
    const f = fakes();
    await ensureSchedules(config(), { ...f, prefix: 'p', log });
    f.schedulers.set('cleanup', { pattern: '* * * * *', tz: 'UTC' });
    const warnings: unknown[] = [];
    const checks = await recheckSchedules(config(), { ...f, prefix: 'p', log: { info: () => undefined, warn: (o: unknown) => void warnings.push(o) } });
    expect(checks?.every((c) => c.ok)).toBe(true);
    expect(f.schedulers.get('cleanup')).toEqual({ pattern: '0 0 * * *', tz: 'UTC' });
    expect(warnings).toHaveLength(1);

    f.schedulers.delete('reset');
    await recheckSchedules(config(), { ...f, prefix: 'p', log });
    expect(f.schedulers.get('reset')).toEqual({ pattern: '0 0 1 * *', tz: 'UTC' });
  });
});
