import { int, tokenList } from './schema-helpers.js';

/** How the worker process runs its jobs, stops, and serves its health and metrics. */
export const workerRuntimeEnvShape = {
  WORKER_CONCURRENCY: int(4, 1, 256),
  /** A job whose worker stops renewing its lock this long (a SIGKILLed worker) counts as stalled. */
  WORKER_LOCK_DURATION_MS: int(30_000, 1_000),
  /** How often workers look for stalled jobs to run again. */
  WORKER_STALLED_INTERVAL_MS: int(5_000, 1_000),
  /**
   * How often a job may be interrupted (its worker killed) and run again before it counts
   * as failed. Every step is idempotent, so re-runs are safe; the limit only stops a job
   * that kills its worker every time.
   */
  WORKER_MAX_STALLED_COUNT: int(20, 1, 1_000),
  /** On SIGTERM, how long active jobs may take to finish; keep it below the pod's grace period. */
  WORKER_SHUTDOWN_TIMEOUT_SECONDS: int(25, 1),
  FLEET_CONCURRENCY: int(8, 1, 256),
  /** The worker's own /healthz, /readyz and /metrics. */
  WORKER_HEALTH_PORT: int(9464, 0, 65_535),
  /**
   * When set, `/metrics` on WORKER_HEALTH_PORT wants `Authorization: Bearer <token>`
   * (comma-separated: several, for rotation). `/healthz` and `/readyz` stay open for the kubelet.
   */
  WORKER_METRICS_TOKEN: tokenList(1).optional(),
};
