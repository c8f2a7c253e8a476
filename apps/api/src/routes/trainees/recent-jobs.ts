import type { Queue } from 'bullmq';
import type { z } from 'zod';
import { createJobId, deleteJobId, expireJobId, readJobFailure, resetPasswordJobId, setExpiryJobId } from '@kup/core';
import type { recentJob } from './schemas.js';

type RecentJob = z.infer<typeof recentJob>;

const iso = (ms: number | undefined): string | null => (ms ? new Date(ms).toISOString() : null);

/** An expire job keeps its due time in its data as it is moved (BullMQ's own `delay` counts from the last move). */
function dueAtOf(job: { data: unknown; timestamp: number; delay?: number }): string | null {
  const dueAt = (job.data as { dueAt?: unknown } | null)?.dueAt;
  return typeof dueAt === 'string' ? dueAt : iso(job.timestamp + (job.delay ?? 0));
}

/**
 * The trainee's jobs on the provisioning queue, found by their fixed ids (no scan), newest
 * first. Only their state and error: a create's result (its password) stays behind GET /jobs/:id.
 */
export async function recentJobs(queue: Pick<Queue, 'getJob'>, username: string): Promise<RecentJob[]> {
  const ids = [createJobId(username), deleteJobId(username), setExpiryJobId(username), resetPasswordJobId(username), expireJobId(username)];
  const found = await Promise.all(
    ids.map(async (id): Promise<RecentJob | undefined> => {
      const job = await queue.getJob(id);
      if (!job) return undefined;
      const state = await job.getState();
      return {
        id,
        type: job.name,
        state,
        createdAt: new Date(job.timestamp).toISOString(),
        finishedAt: iso(job.finishedOn),
        dueAt: state === 'delayed' ? dueAtOf(job) : null,
        ...(state === 'failed' ? { error: readJobFailure(job) } : {}),
      };
    }),
  );
  return found.filter((job): job is RecentJob => job !== undefined).sort((a, b) => (a.createdAt < b.createdAt ? 1 : -1));
}
