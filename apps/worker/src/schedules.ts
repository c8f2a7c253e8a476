import { setTimeout as sleep } from 'node:timers/promises';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { RedisMutex, newLockToken, type FleetKind, type Logger, type WorkerEnv } from '@kup/core';

export type ScheduleConfig = Pick<
  WorkerEnv,
  | 'SCHEDULE_TZ'
  | 'RESET_SCHEDULE'
  | 'RESET_SCHEDULE_ENABLED'
  | 'RESET_SCHEDULE_MODE'
  | 'CLEANUP_SCHEDULE'
  | 'CLEANUP_SCHEDULE_ENABLED'
  | 'SYNC_SCHEDULE'
  | 'SYNC_SCHEDULE_ENABLED'
>;

export interface DesiredSchedule {
  /** The scheduler id, also the job name on the schedules queue: the fleet kind it starts. */
  id: FleetKind;
  enabled: boolean;
  pattern: string;
  tz: string;
  /** The request the run gets (as the API would). */
  data: Record<string, unknown>;
}

/** What the configuration asks for, one entry per fleet kind. */
export function desiredSchedules(config: ScheduleConfig): DesiredSchedule[] {
  const tz = config.SCHEDULE_TZ;
  return [
    { id: 'reset', enabled: config.RESET_SCHEDULE_ENABLED, pattern: config.RESET_SCHEDULE, tz, data: { mode: config.RESET_SCHEDULE_MODE } },
    { id: 'cleanup', enabled: config.CLEANUP_SCHEDULE_ENABLED, pattern: config.CLEANUP_SCHEDULE, tz, data: {} },
    { id: 'sync', enabled: config.SYNC_SCHEDULE_ENABLED, pattern: config.SYNC_SCHEDULE, tz, data: {} },
  ];
}

export interface EnsureSchedulesDeps {
  /** The schedules queue (`FLEET_SCHEDULES_QUEUE`). */
  queue: Pick<Queue, 'upsertJobScheduler' | 'removeJobScheduler' | 'getJobSchedulers'>;
  redis: Pick<Redis, 'set' | 'eval' | 'exists'>;
  /** QUEUE_PREFIX: the lock lives beside the queues. */
  prefix: string;
  log: Pick<Logger, 'info' | 'warn'>;
  lockTtlMs?: number;
}

export interface ScheduleCheck {
  id: FleetKind;
  enabled: boolean;
  /** What Redis holds after the upsert: undefined when no scheduler exists. */
  pattern: string | undefined;
  tz: string | undefined;
  next: number | undefined;
  ok: boolean;
}

/**
 * Makes the schedulers match the configuration, from one process at a time: every worker
 * calls this at start, but only the one that takes the Redis lock (SET NX PX) upserts
 * (BullMQ has known problems with concurrent upserts of one scheduler); the others wait
 * for the lock to go. Then each process checks with `getJobSchedulers` and reports.
 * A disabled schedule's scheduler is removed.
 */
export async function ensureSchedules(config: ScheduleConfig, deps: EnsureSchedulesDeps): Promise<ScheduleCheck[]> {
  const desired = desiredSchedules(config);
  const lockTtlMs = deps.lockTtlMs ?? 30_000;
  const key = `${deps.prefix}:lock:schedules`;
  const holder = newLockToken();
  const mutex = new RedisMutex(deps.redis);

  for (let round = 0; round < 2; round++) {
    if (await mutex.acquire(key, holder, lockTtlMs)) {
      await mutex.hold(key, holder, lockTtlMs, async () => {
        for (const schedule of desired) {
          if (schedule.enabled) {
            await deps.queue.upsertJobScheduler(
              schedule.id,
              { pattern: schedule.pattern, tz: schedule.tz },
              { name: schedule.id, data: schedule.data, opts: { removeOnComplete: { count: 50 }, removeOnFail: { count: 50 } } },
            );
          } else {
            await deps.queue.removeJobScheduler(schedule.id);
          }
        }
        deps.log.info({ schedules: desired.map(({ id, enabled, pattern, tz }) => ({ id, enabled, pattern, tz })) }, 'schedules upserted');
      });
    } else {
      const giveUpAt = Date.now() + lockTtlMs;
      while ((await deps.redis.exists(key)) === 1 && Date.now() < giveUpAt) await sleep(100);
    }
    const checks = await checkSchedules(desired, deps.queue);
    if (checks.every((c) => c.ok)) return checks;
    if (round === 1) {
      // Replicas disagree on the configuration, or the lock holder died: say so loudly.
      deps.log.warn({ checks }, 'schedules differ from this process\'s configuration');
      return checks;
    }
  }
  return [];
}

/**
 * Puts the schedulers back when Redis no longer holds what the configuration asks for
 * (a pattern or a run's data changed by hand, through Bull Board or Redis; a scheduler
 * removed or added): run at every worker start and then every SCHEDULE_CHECK_INTERVAL_SECONDS
 * by each worker; the repair itself is done by the one that takes the lock (ensureSchedules).
 * Returns the checks after the repair, or undefined when nothing had changed.
 */
export async function recheckSchedules(config: ScheduleConfig, deps: EnsureSchedulesDeps): Promise<ScheduleCheck[] | undefined> {
  const drift = (await checkSchedules(desiredSchedules(config), deps.queue)).filter((check) => !check.ok);
  if (drift.length === 0) return undefined;
  deps.log.warn({ drift: drift.map(({ id, pattern, tz }) => ({ id, pattern, tz })) }, 'schedules differ from the configuration: putting them back');
  return ensureSchedules(config, deps);
}

/** Template data as BullMQ gives it back: compared by value, keys in any order. */
const sameData = (a: unknown, b: Record<string, unknown>) => {
  const sorted = (value: unknown) => JSON.stringify(value, (_, v: unknown) => (v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort()) : v));
  return sorted(a ?? {}) === sorted(b);
};

async function checkSchedules(desired: DesiredSchedule[], queue: EnsureSchedulesDeps['queue']): Promise<ScheduleCheck[]> {
  const existing = await queue.getJobSchedulers(0, -1, true);
  return desired.map((schedule) => {
    const found = existing.filter((s) => (s.id ?? s.key) === schedule.id);
    const one = found[0];
    const ok = schedule.enabled
      ? found.length === 1 &&
        one?.pattern === schedule.pattern &&
        one.every === undefined &&
        (one.name === undefined || one.name === schedule.id) &&
        (one.tz ?? 'UTC') === schedule.tz &&
        // Fakes and old BullMQ versions may not return the template: only compare one that is there.
        (one.template === undefined || sameData(one.template.data, schedule.data))
      : found.length === 0;
    return { id: schedule.id, enabled: schedule.enabled, pattern: one?.pattern, tz: one?.tz, next: one?.next, ok };
  });
}
