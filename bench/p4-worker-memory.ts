// P4 worker memory: a worker process with 10,000 create jobs queued. The jobs name
// usernames in a reserved bench range; the worker runs against the real stack for a
// while (so what is measured is a working worker with a deep backlog, not an idle one),
// its RSS is sampled, then the backlog is removed and whatever the worker did create is
// deleted through delete jobs.
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { JOBS, QUEUES, createJobId, defaultJobOptions, deleteJobId } from '@kup/core';
import { dropPrefix, env, eventually, round, sampleRss, startChild } from './lib.js';

export interface WorkerMemoryFigures {
  queued: number;
  seconds: number;
  rssPeakMb: number;
  rssStartMb: number;
  processed: number;
}

export async function benchWorkerMemory(tag: string, queued: number, seconds: number): Promise<WorkerMemoryFigures> {
  const prefix = `bench-p4-${tag}`;
  const redis = new Redis(env('REDIS_URL'), { maxRetriesPerRequest: null });
  const queue = new Queue(QUEUES.provisioning, { connection: redis, prefix });
  const options = defaultJobOptions({ JOB_ATTEMPTS: 3, JOB_BACKOFF_MS: 1_000 });
  const usernames = Array.from({ length: queued }, (_, i) => `${tag}-q-${i}`);
  try {
    for (let i = 0; i < usernames.length; i += 1_000) {
      await queue.addBulk(
        usernames.slice(i, i + 1_000).map((username) => ({
          name: JOBS.create,
          data: { username, email: `${username}@bench.example` },
          opts: { ...options, jobId: createJobId(username) },
        })),
      );
    }
    const worker = await startChild('apps/worker/dist/main.js', { QUEUE_PREFIX: prefix, WORKER_HEALTH_PORT: '0', RESET_SCHEDULE_ENABLED: 'false', CLEANUP_SCHEDULE_ENABLED: 'false' }, /worker started/, 'p4-worker');
    let rss: { peakMb: number };
    let rssStartMb = 0;
    let touched: string[] = [];
    try {
      const sampler = sampleRss(worker.process.pid as number);
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      rssStartMb = sampler.stop().lastMb;
      const run = sampleRss(worker.process.pid as number);
      await new Promise((resolve) => setTimeout(resolve, seconds * 1_000));
      rss = run.stop();
      // Stop feeding the worker, let the active jobs end, then undo what they made.
      await queue.pause();
      await eventually('active jobs done', async () => ((await queue.getActiveCount()) === 0 ? true : undefined), 120_000);
      const finished = [...(await queue.getCompleted(0, -1)), ...(await queue.getFailed(0, -1))];
      touched = finished.map((job) => (job.data as { username: string }).username);
      await queue.drain(true);
      await queue.addBulk(touched.map((username) => ({ name: JOBS.delete, data: { usernames: [username] }, opts: { ...options, jobId: deleteJobId(username) } })));
      await queue.resume();
      await eventually('clean-up deletes done', async () => ((await queue.getJobCounts('wait', 'active', 'delayed')).wait === 0 && (await queue.getActiveCount()) === 0 ? true : undefined), 600_000, 1_000);
    } finally {
      await worker.stop();
    }
    return { queued, seconds, rssPeakMb: round(rss.peakMb), rssStartMb: round(rssStartMb), processed: touched.length };
  } finally {
    await queue.close();
    redis.disconnect();
    await dropPrefix(prefix);
  }
}
