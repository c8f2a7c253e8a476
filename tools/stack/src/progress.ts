// Progress lines for the stack's long first-time steps (the Keycloak download; the Kubernetes
// build reports its own from build-control-plane.sh), so a fresh machine does not look stuck.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { log } from './process.js';

export interface Sample {
  /** milliseconds */
  at: number;
  done: number;
}

const seconds = (s: number): string => (s >= 90 ? `${Math.round(s / 60)} min` : `${Math.max(1, Math.round(s))} s`);

/**
 * One line: how much of `total` is done and, from the rate since `first`, how long remains.
 * `unit` scales the numbers (bytes → MB: { name: 'MB', size: 1e6 }).
 */
export function progressLine(label: string, first: Sample, now: Sample, total: number, unit = { name: '', size: 1 }): string {
  const fmt = (n: number): string => `${Math.round(n / unit.size)}${unit.name ? ` ${unit.name}` : ''}`;
  const done = Math.min(now.done, total);
  const pct = total > 0 ? Math.floor((done / total) * 100) : 0;
  const rate = (now.done - first.done) / Math.max(1, now.at - first.at);
  const left = rate > 0 ? `, about ${seconds((total - done) / rate / 1000)} left` : ', nothing received yet';
  return `${label}: ${fmt(done)} of about ${fmt(total)} (${pct}%)${left}`;
}

/** Logs progressLine every intervalMs while the returned stop function has not been called. */
export function reportProgress(
  label: string,
  measure: () => number,
  total: number,
  unit?: { name: string; size: number },
  intervalMs = 10_000,
): () => void {
  const first = { at: Date.now(), done: measure() };
  const timer = setInterval(() => log(progressLine(label, first, { at: Date.now(), done: measure() }, total, unit)), intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}

/** Bytes of the files in dir whose name contains `part` (a download in progress and its temp files). */
export function bytesIn(dir: string, part: string): number {
  if (!existsSync(dir)) return 0;
  let total = 0;
  for (const name of readdirSync(dir)) {
    if (!name.includes(part)) continue;
    try {
      total += statSync(join(dir, name)).size;
    } catch {
      /* renamed meanwhile */
    }
  }
  return total;
}
