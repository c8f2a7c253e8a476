import { Counter, Gauge, Histogram } from 'prom-client';
import { metricsRegistry } from './registry.js';

/** The job states BullMQ counts (`Queue.getJobCounts()` with no argument). */
export const JOB_STATES = ['waiting', 'active', 'delayed', 'prioritized', 'waiting-children', 'paused', 'completed', 'failed'] as const;

/** The parts of a waiting BullMQ `Job` its age is read from. */
export interface WaitingJob {
  /** When the job was added (ms since the epoch). */
  timestamp: number;
  opts: { delay?: number | undefined };
}

/** What the `kup_jobs` and oldest-waiting gauges read on every scrape: a BullMQ `Queue`, narrowed. */
export interface CountedQueue {
  readonly name: string;
  getJobCounts(...states: string[]): Promise<Record<string, number>>;
  /** `getWaiting(0, 0)` is the oldest waiting job (BullMQ lists them oldest first). */
  getWaiting(start: number, end: number): Promise<readonly (WaitingJob | undefined)[]>;
}

const countedQueues = new Set<CountedQueue>();

export const jobsByState = new Gauge({
  name: 'kup_jobs',
  help: 'Jobs by queue and state, read from Redis on every scrape',
  labelNames: ['queue', 'state'] as const,
  registers: [metricsRegistry],
  async collect() {
    this.reset();
    // A failed count (Redis down) leaves the queue out of this scrape rather than failing it.
    await Promise.all(
      [...countedQueues].map(async (queue) => {
        const counts = await queue.getJobCounts(...JOB_STATES).catch(() => undefined);
        for (const state of JOB_STATES) if (counts) this.set({ queue: queue.name, state }, counts[state] ?? 0);
      }),
    );
  },
});

/**
 * How long the oldest job of each queue has been waiting for a worker: the signal that
 * workers are down, too few or stuck (queue depth alone grows with every burst of creates).
 * A delayed job counts from the end of its delay. 0 when nothing waits, so an alert on it
 * never goes silent for want of a series.
 */
export const oldestWaitingJobAge = new Gauge({
  name: 'kup_queue_oldest_waiting_job_age_seconds',
  help: 'Age of the oldest job waiting for a worker, by queue (0 when none waits); read from Redis on every scrape',
  labelNames: ['queue'] as const,
  registers: [metricsRegistry],
  async collect() {
    this.reset();
    await Promise.all(
      [...countedQueues].map(async (queue) => {
        const waiting = await queue.getWaiting(0, 0).catch(() => undefined);
        // As for kup_jobs: a failed read leaves the queue out of this scrape.
        if (!waiting) return;
        const oldest = waiting[0];
        const seconds = oldest ? (Date.now() - oldest.timestamp - (oldest.opts.delay ?? 0)) / 1000 : 0;
        this.set({ queue: queue.name }, Math.max(0, seconds));
      }),
    );
  },
});

/** Makes `kup_jobs` count these queues; the returned function stops it. */
export function countJobs(queues: Iterable<CountedQueue>): () => void {
  const added = [...queues];
  for (const queue of added) countedQueues.add(queue);
  return () => {
    for (const queue of added) countedQueues.delete(queue);
  };
}

export const jobDuration = new Histogram({
  name: 'kup_job_duration_seconds',
  help: 'Duration of one job attempt, from start to completion or failure',
  labelNames: ['queue', 'name', 'outcome'] as const,
  buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300],
  registers: [metricsRegistry],
});

export const jobsCompleted = new Counter({
  name: 'kup_jobs_completed_total',
  help: 'Jobs completed',
  labelNames: ['queue', 'name'] as const,
  registers: [metricsRegistry],
});

export const jobsFailed = new Counter({
  name: 'kup_jobs_failed_total',
  help: 'Jobs failed for good (attempts spent, or a permanent error)',
  labelNames: ['queue', 'name'] as const,
  registers: [metricsRegistry],
});

export const jobsRetried = new Counter({
  name: 'kup_jobs_retried_total',
  help: 'Job attempts that failed and will be retried',
  labelNames: ['queue', 'name'] as const,
  registers: [metricsRegistry],
});

export const jobsStalled = new Counter({
  name: 'kup_jobs_stalled_total',
  help: 'Jobs whose worker stopped renewing their lock (a killed worker); they run again',
  labelNames: ['queue'] as const,
  registers: [metricsRegistry],
});

/** The parts of a BullMQ `Job` the counters read. */
export interface ObservedJob {
  name: string;
  attemptsMade: number;
  opts: { attempts?: number | undefined };
  processedOn?: number | undefined;
  finishedOn?: number | undefined;
}

/** The events of a BullMQ `Worker` the counters hook. */
export interface ObservedWorker {
  readonly name: string;
  on(event: 'completed', listener: (job: ObservedJob) => void): unknown;
  on(event: 'failed', listener: (job: ObservedJob | undefined, error: Error) => void): unknown;
  on(event: 'stalled', listener: (jobId: string) => void): unknown;
}

/**
 * Whether a failed attempt will run again. BullMQ has counted the attempt when it emits
 * `failed`; an `UnrecoverableError` (a permanent failure) is never retried.
 */
export function willRetry(job: ObservedJob, error: Error): boolean {
  return error.name !== 'UnrecoverableError' && job.attemptsMade < (job.opts.attempts ?? 1);
}

function secondsOf(job: ObservedJob): number | undefined {
  if (job.processedOn === undefined) return undefined;
  return Math.max(0, ((job.finishedOn ?? Date.now()) - job.processedOn) / 1000);
}

/** Counts completions, failures, retries and stalls of these workers, and times their jobs. */
export function observeWorkers(workers: Iterable<ObservedWorker>): void {
  for (const worker of workers) {
    const queue = worker.name;
    worker.on('completed', (job) => {
      jobsCompleted.inc({ queue, name: job.name });
      const seconds = secondsOf(job);
      if (seconds !== undefined) jobDuration.observe({ queue, name: job.name, outcome: 'completed' }, seconds);
    });
    worker.on('failed', (job, error) => {
      if (!job) return;
      const retried = willRetry(job, error);
      (retried ? jobsRetried : jobsFailed).inc({ queue, name: job.name });
      const seconds = secondsOf(job);
      if (seconds !== undefined) jobDuration.observe({ queue, name: job.name, outcome: retried ? 'retried' : 'failed' }, seconds);
    });
    worker.on('stalled', () => jobsStalled.inc({ queue }));
  }
}
