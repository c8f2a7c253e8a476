// The worker as operators run it — `node apps/worker/src/main.ts` from sources — as a
// child process of the test, so it can be SIGKILLed; its output goes to a LogCapture.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { LogCapture } from './harness.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

export class WorkerProcess {
  private constructor(readonly child: ChildProcess) {}

  /** Starts a worker with the stack env plus `env`; resolves once it logged that it started. */
  static async start(env: Record<string, string>, logs: LogCapture, readyTimeoutMs = 60_000): Promise<WorkerProcess> {
    const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', 'apps/worker/src/main.ts'], {
      cwd: root,
      env: { ...process.env, WORKER_HEALTH_PORT: '0', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const worker = new WorkerProcess(child);
    child.stdout?.pipe(logs, { end: false });
    child.stderr?.pipe(logs, { end: false });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('worker did not start in time')), readyTimeoutMs);
      const onData = (chunk: Buffer) => {
        if (!chunk.toString().includes('worker started')) return;
        clearTimeout(timer);
        child.stdout?.off('data', onData);
        resolve();
      };
      child.stdout?.on('data', onData);
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`worker exited before it started (${code ?? signal})`));
      });
    });
    return worker;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  exited(): Promise<void> {
    return new Promise((resolve) => (this.running ? this.child.once('exit', () => resolve()) : resolve()));
  }

  async kill(signal: NodeJS.Signals): Promise<void> {
    if (this.running) this.child.kill(signal);
    await this.exited();
  }

  /** SIGTERM (graceful), then SIGKILL if it is still there after `graceMs`. */
  async stop(graceMs = 15_000): Promise<void> {
    if (!this.running) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    await this.exited();
    clearTimeout(timer);
  }
}
