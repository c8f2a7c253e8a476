import type { Ports } from './ports.js';
import type { Secrets } from './secrets.js';
import { canListen } from './ports.js';
import { isRunning, log, readPid, startProcess, stopProcess, waitFor, type StartSpec } from './process.js';

export interface StackContext {
  ports: Ports;
  secrets: Secrets;
}

/** One server process of the stack. */
export interface Server {
  name: string;
  /** A substring of its command line, to tell our process from a recycled pid. */
  marker: string;
  /** Ports it listens on (checked free before it starts). */
  ports(ctx: StackContext): number[];
  /** Writes config files and returns how to start it. */
  prepare(ctx: StackContext): Promise<StartSpec>;
  ready(ctx: StackContext): Promise<boolean>;
  readyTimeoutMs: number;
  /** Idempotent setup after it is ready (e.g. Keycloak's user profile). */
  afterReady?(ctx: StackContext): Promise<void>;
  where(ctx: StackContext): string;
  stopGraceMs?: number;
}

/** Reuses a running, ready server or starts it; returns true when this call started it. */
export async function ensureServer(server: Server, ctx: StackContext): Promise<boolean> {
  const pid = readPid(server.name);
  if (isRunning(pid, server.marker)) {
    if (await server.ready(ctx).catch(() => false)) {
      log(`${server.name}: already running (pid ${pid}), reusing`);
      await server.afterReady?.(ctx);
      return false;
    }
    log(`${server.name}: running (pid ${pid}) but not ready yet, waiting`);
    try {
      await waitFor(server.name, () => server.ready(ctx), {
        timeoutMs: server.readyTimeoutMs, name: server.name, marker: server.marker,
      });
      await server.afterReady?.(ctx);
      return false;
    } catch (error) {
      log(`${server.name}: ${(error as Error).message.split('\n')[0]}; restarting it`);
      await stopProcess(server.name, server.marker, server.stopGraceMs);
    }
  }
  for (const port of server.ports(ctx)) {
    if (!(await canListen(port))) {
      throw new Error(
        `${server.name}: port ${port} on 127.0.0.1 is in use by a process this stack did not start ` +
          `(see .stack/ports.json; stop that process, or run 'npm run stack:down -- --wipe' to allocate new ports)`,
      );
    }
  }
  const spec = await server.prepare(ctx);
  const started = Date.now();
  const newPid = startProcess(spec);
  log(`${server.name}: started (pid ${newPid}), waiting until ready`);
  await waitFor(server.name, () => server.ready(ctx), {
    timeoutMs: server.readyTimeoutMs, name: server.name, marker: server.marker,
  });
  log(`${server.name}: ready after ${((Date.now() - started) / 1000).toFixed(1)}s`);
  await server.afterReady?.(ctx);
  return true;
}
