import { setTimeout as sleep } from 'node:timers/promises';
import type { ApiClient, JobView } from './api-client.js';

export interface WaitOptions {
  timeoutMs: number;
  intervalMs?: number;
  /** Called when the step or the counts change: "reset: users 3/10". */
  onProgress?: (line: string) => void;
}

const FINISHED = new Set(['completed', 'failed']);

export function progressLine(view: JobView): string {
  const { step, done, total } = view.progress;
  return `${view.type} ${view.id}: ${view.state}, ${step}${total > 0 ? ` ${done}/${total}` : ''}`;
}

/** Polls `GET /jobs/:id` until the job completed or failed; the last view if time runs out. */
export async function waitForJob(api: ApiClient, id: string, options: WaitOptions): Promise<JobView> {
  const deadline = Date.now() + options.timeoutMs;
  let last = '';
  for (;;) {
    const view = await api.job(id);
    const line = progressLine(view);
    if (line !== last) {
      options.onProgress?.(line);
      last = line;
    }
    if (FINISHED.has(view.state) || Date.now() >= deadline) return view;
    await sleep(options.intervalMs ?? 1_000);
  }
}
