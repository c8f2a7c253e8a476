import { z } from 'zod';
import { bool, cron, int, timeZone } from './schema-helpers.js';

/** The fleet runs the worker schedules itself, and the guard on mass deletes (worker). */
export const scheduleEnvShape = {
  SCHEDULE_TZ: timeZone.default('UTC'),
  RESET_SCHEDULE: cron.default('0 0 1 * *'),
  RESET_SCHEDULE_ENABLED: bool(true),
  RESET_SCHEDULE_MODE: z.enum(['recreate', 'purge']).default('recreate'),
  /** Daily, so a trainee's expiresAt is honoured within a day. */
  CLEANUP_SCHEDULE: cron.default('0 0 * * *'),
  CLEANUP_SCHEDULE_ENABLED: bool(true),
  SYNC_SCHEDULE: cron.default('0 3 * * *'),
  SYNC_SCHEDULE_ENABLED: bool(false),
  /** How often each worker checks the schedulers in Redis against the configuration and puts changed ones back. */
  SCHEDULE_CHECK_INTERVAL_SECONDS: int(60, 1, 86_400),
  /**
   * A cleanup run that would delete more than this share (0–1) of the managed trainees it
   * looks at fails with CONFIRMATION_REQUIRED and deletes nobody, unless it was asked with
   * `confirmMassDelete: true`. The configured schedule (maxAgeDays 365) is not held.
   */
  CLEANUP_MAX_SHARE_WITHOUT_CONFIRM: z.coerce.number().min(0).max(1).default(0.2),
};
