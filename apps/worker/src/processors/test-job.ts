import type { Job } from 'bullmq';

/** A stand-in for a BullMQ job in unit tests: data updates, progress and delays are recorded. */
export function fakeJob(name: string, data: Record<string, unknown>, options: { attemptsMade?: number; attempts?: number; stalledCounter?: number } = {}) {
  const job = {
    id: `${name}-x`,
    name,
    timestamp: 1_700_000_000_000,
    data,
    attemptsMade: options.attemptsMade ?? 0,
    stalledCounter: options.stalledCounter ?? 0,
    opts: { attempts: options.attempts ?? 3 },
    dataUpdates: [] as unknown[],
    progressUpdates: [] as unknown[],
    delayedUntil: undefined as number | undefined,
    async updateData(next: Record<string, unknown>) {
      job.data = next;
      job.dataUpdates.push(structuredClone(next));
    },
    async updateProgress(progress: unknown) {
      job.progressUpdates.push(progress);
    },
    async moveToDelayed(timestamp: number) {
      job.delayedUntil = timestamp;
    },
  };
  return job as typeof job & Job;
}
