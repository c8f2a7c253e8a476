import { setTimeout as sleep } from 'node:timers/promises';
import type { ApiClient, JobView } from './api-client.js';

export { progressLine } from './progress.js';

export interface WaitOptions {
  timeoutMs: number;
  intervalMs?: number;
  /** Called with every view polled (progress.ts shows what changed). */
  onProgress?: (view: JobView) => void;
}

const FINISHED = new Set(['completed', 'failed']);

export function finished(view: JobView): boolean {
  return FINISHED.has(view.state);
}

/** Polls `GET /jobs/:id` until the job completed or failed; the last view if time runs out. */
export async function waitForJob(api: ApiClient, id: string, options: WaitOptions): Promise<JobView> {
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    const view = await api.job(id);
    options.onProgress?.(view);
    if (finished(view) || Date.now() >= deadline) return view;
    await sleep(options.intervalMs ?? 1_000);
  }
}
