// A provisioning worker and a producer queue of the test's own (own BullMQ prefix),
// in this process, with its logs captured so tests can check them for secrets.
import { Queue, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import {
  JOBS,
  QUEUES,
  Sealer,
  SecretStore,
  createJobId,
  defaultJobOptions,
  deleteJobId,
  secretKeyOf,
  type CreateJobData,
  type DeleteJobData,
  type WorkerEnv,
} from '@kup/core';
import type { WorkerApp } from '@kup/worker';
import { LogCapture } from './logs.js';
import { uniquePrefix } from './names.js';
import { startTestWorkerApp } from './service.js';
import { eventually, workerConfig } from './stack.js';

export interface TestWorker {
  config: WorkerEnv;
  queue: Queue;
  secrets: SecretStore;
  /** Every log line the worker wrote, as text. */
  logs: string[];
  app: WorkerApp | undefined;
  addCreate(data: CreateJobData): Promise<Job>;
  addDelete(data: DeleteJobData): Promise<Job>;
  /** The password of a create job, as the API reads it. */
  passwordOf(job: Job): Promise<string | undefined>;
  close(): Promise<void>;
}

/**
 * `startWorker: false` gives only the producer side (for a worker run as a child process).
 * `overrides` are env names, e.g. `{ WORKER_LOCK_DURATION_MS: '3000' }`.
 */
export async function testWorker(options: { overrides?: Record<string, string>; startWorker?: boolean } = {}): Promise<TestWorker> {
  const config = workerConfig({ QUEUE_PREFIX: uniquePrefix(), JOB_BACKOFF_MS: '500', ...options.overrides });
  const redis = new Redis(config.REDIS_URL, { maxRetriesPerRequest: null });
  const queue = new Queue(QUEUES.provisioning, { connection: redis, prefix: config.QUEUE_PREFIX });
  queue.on('error', () => undefined);
  const secrets = new SecretStore(redis, Sealer.fromEncodedKey(config.RESULT_ENCRYPTION_KEY), config.QUEUE_PREFIX, config.PASSWORD_TTL_SECONDS);
  const logs = new LogCapture();
  const app = (options.startWorker ?? true) ? await startTestWorkerApp(config, logs) : undefined;
  return {
    config,
    queue,
    secrets,
    logs: logs.lines,
    app,
    addCreate: (data) => queue.add(JOBS.create, data, { jobId: createJobId(data.username), ...defaultJobOptions(config) }),
    addDelete: (data) => queue.add(JOBS.delete, data, { jobId: deleteJobId(data.usernames[0] as string), ...defaultJobOptions(config) }),
    passwordOf: (job) => secrets.get(secretKeyOf(job)),
    async close() {
      await app?.close(10_000);
      await queue.obliterate({ force: true }).catch(() => undefined);
      await queue.close();
      await redis.quit();
    },
  };
}

export interface FinishedJob {
  state: 'completed' | 'failed';
  job: Job;
}

/**
 * Polls the job until it completed or failed (for good); throws after the deadline. The
 * state is read before the job's hash (as the API's job reader does): a job read first
 * and finishing in between would come back `completed` without its return value.
 */
export async function waitForJob(queue: Pick<Queue, 'getJob' | 'getJobState'>, jobId: string, timeoutMs = 90_000): Promise<FinishedJob> {
  return eventually(
    `job ${jobId} finished`,
    async () => {
      const state = await queue.getJobState(jobId);
      if (state !== 'completed' && state !== 'failed') return undefined;
      const job = await queue.getJob(jobId);
      return job ? { state, job } : undefined;
    },
    timeoutMs,
  );
}
