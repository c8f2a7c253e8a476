// Job schedulers: two real worker processes start at once and each scheduler exists
// exactly once with the configured pattern; a disabled one is removed; a scheduler's
// firing enqueues a real run through the same dedup as the API.
import { spawn, type ChildProcess } from 'node:child_process';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FLEET_SCHEDULES_QUEUE, QUEUES } from '@kup/core';
import { ensureSchedules } from '../../apps/worker/src/schedules.js';
import { uniquePrefix } from '../helpers/names.js';
import { eventually, workerConfig } from '../helpers/stack.js';

describe('fleet: job schedulers', () => {
  const prefix = uniquePrefix('f-sch');
  const env = {
    QUEUE_PREFIX: prefix,
    LOG_LEVEL: 'info',
    SCHEDULE_TZ: 'Europe/Berlin',
    RESET_SCHEDULE: '7 5 1 * *',
    RESET_SCHEDULE_MODE: 'purge',
    CLEANUP_SCHEDULE_ENABLED: 'false',
    SYNC_SCHEDULE_ENABLED: 'true',
    SYNC_SCHEDULE: '15 3 * * *',
    FLEET_CONCURRENCY: '2',
    // Tests below change schedulers on purpose: these workers must not put them back meanwhile.
    SCHEDULE_CHECK_INTERVAL_SECONDS: '3600',
  };
  const processes: { child: ChildProcess; out: string[] }[] = [];
  let redis: Redis;
  let schedules: Queue;
  let fleet: Queue;

  const startWorker = (overrides: Record<string, string> = {}) => {
    const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', 'apps/worker/src/main.ts'], {
      env: { ...process.env, ...env, ...overrides },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const out: string[] = [];
    child.stdout?.on('data', (chunk) => out.push(String(chunk)));
    child.stderr?.on('data', (chunk) => out.push(String(chunk)));
    processes.push({ child, out });
    return { child, out };
  };

  beforeAll(() => {
    redis = new Redis(workerConfig().REDIS_URL, { maxRetriesPerRequest: null });
    schedules = new Queue(FLEET_SCHEDULES_QUEUE, { connection: redis, prefix });
    fleet = new Queue(QUEUES.fleet, { connection: redis, prefix });
  });

  afterAll(async () => {
    for (const { child } of processes) if (child.exitCode === null) child.kill('SIGTERM');
    await Promise.all(
      processes.map(({ child }) => (child.exitCode === null ? new Promise((resolve) => child.once('exit', resolve)) : undefined)),
    );
    for (const queue of [schedules, fleet, new Queue(QUEUES.fleetUser, { connection: redis, prefix }), new Queue(QUEUES.provisioning, { connection: redis, prefix })]) {
      await queue.obliterate({ force: true }).catch(() => undefined);
      await queue.close();
    }
    await redis.quit();
  });

  it('two worker processes starting together leave each scheduler exactly once, as configured', async () => {
    const workers = [startWorker(), startWorker()];
    for (const w of workers) {
      await eventually('worker started its fleet workers', async () => (w.out.join('').includes('fleet workers started') ? true : undefined), 90_000, 200);
    }
    const list = await schedules.getJobSchedulers(0, -1, true);
    expect(list.map((s) => s.key).sort()).toEqual(['reset', 'sync']);
    expect(list.find((s) => s.key === 'reset')).toMatchObject({ pattern: '7 5 1 * *', tz: 'Europe/Berlin', template: { data: { mode: 'purge' } } });
    expect(list.find((s) => s.key === 'sync')).toMatchObject({ pattern: '15 3 * * *', tz: 'Europe/Berlin' });
    expect(await schedules.getJobSchedulersCount()).toBe(2);
    // One delayed firing per scheduler, not one per process.
    expect((await schedules.getDelayed()).length).toBe(2);
    const upserts = workers.flatMap((w) => w.out.join('').split('\n')).filter((line) => line.includes('schedules upserted')).length;
    expect(upserts).toBeGreaterThanOrEqual(1);
  });

  it('a scheduler that fires enqueues the run through the same dedup as the API', async () => {
    await schedules.upsertJobScheduler('sync', { every: 1_000 }, { name: 'sync', data: { usernamePrefix: 'nobody-at-all-' } });
    try {
      const run = await eventually('a scheduled sync run', async () => (await fleet.getJob('sync')) ?? undefined, 30_000);
      expect(run.data).toMatchObject({ origin: 'schedule', usernamePrefix: 'nobody-at-all-' });
      const finished = await eventually('the scheduled run finished', async () => ((await fleet.getJobState('sync')) === 'completed' ? true : undefined), 60_000);
      expect(finished).toBe(true);
    } finally {
      await schedules.removeJobScheduler('sync');
    }
  });

  it('a schedule switched off is removed', async () => {
    const config = workerConfig({ ...env, SYNC_SCHEDULE_ENABLED: 'false' });
    const checks = await ensureSchedules(config, { queue: schedules, redis, prefix, log: { info: () => undefined, warn: () => undefined } });
    expect(checks.every((c) => c.ok)).toBe(true);
    expect((await schedules.getJobSchedulers(0, -1)).map((s) => s.key)).toEqual(['reset']);
  });

  it('a scheduler changed in Redis (pattern, run data) is put back by a running worker, not only at the next start', async () => {
    const w = startWorker({ SCHEDULE_CHECK_INTERVAL_SECONDS: '1', SYNC_SCHEDULE_ENABLED: 'false' });
    await eventually('third worker started', async () => (w.out.join('').includes('fleet workers started') ? true : undefined), 90_000, 200);
    // As Bull Board's scheduler edit would: every minute, and a purge turned into a recreate.
    await schedules.upsertJobScheduler('reset', { pattern: '* * * * *', tz: 'Europe/Berlin' }, { name: 'reset', data: { mode: 'recreate' } });
    const restored = await eventually(
      'reset scheduler put back',
      async () => {
        const reset = (await schedules.getJobSchedulers(0, -1, true)).find((s) => s.key === 'reset');
        return reset?.pattern === '7 5 1 * *' && reset.template?.data?.mode === 'purge' ? reset : undefined;
      },
      20_000,
      200,
    );
    expect(restored).toMatchObject({ pattern: '7 5 1 * *', tz: 'Europe/Berlin' });
    expect(w.out.join('')).toContain('schedules differ from the configuration: putting them back');
  });
});
