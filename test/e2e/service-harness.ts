// The whole service in this process against the stack: the API listening on a free port
// and the worker app (provisioning + fleet), sharing a queue prefix and encryption key of
// the test's own. For tests that drive it from outside (CLI, browser).
import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { WorkerEnv } from '@kup/core';
import type { ApiDeps } from '@kup/api';
import type { WorkerApp } from '@kup/worker';
import { LogCapture } from '../helpers/logs.js';
import { uniquePrefix } from '../helpers/names.js';
import { startTestApi, startTestWorkerApp } from '../helpers/service.js';
import { ensureTraineeClusterRole, workerConfig } from '../helpers/stack.js';

export interface Service {
  url: string;
  token: string;
  /** A Bull Board admin token (BULL_BOARD_ADMIN_TOKENS): not an API token. */
  adminToken: string;
  workerConfig: WorkerEnv;
  worker: WorkerApp;
  api: FastifyInstance;
  apiDeps: ApiDeps;
  /** The API's and the worker's log lines. */
  logs: string[];
  /** The env a CLI process needs: the API's URL and token plus the worker's upstream settings. */
  cliEnv: NodeJS.ProcessEnv;
  close(): Promise<void>;
}

/** `workerEnv`: settings of the worker's own on top of the shared ones (e.g. `WEBHOOKS`). */
export async function startService(options: { workerEnv?: Record<string, string> } = {}): Promise<Service> {
  await ensureTraineeClusterRole();
  const shared = {
    QUEUE_PREFIX: uniquePrefix('svc'),
    RESULT_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    JOB_BACKOFF_MS: '300',
    RESET_SCHEDULE_ENABLED: 'true',
    CLEANUP_SCHEDULE_ENABLED: 'true',
  };
  const adminToken = `adm-${randomBytes(16).toString('hex')}`;
  const logs = new LogCapture();

  const config = workerConfig({ ...shared, ...options.workerEnv });
  const worker = await startTestWorkerApp(config, logs, 'info');
  const api = await startTestApi(shared.QUEUE_PREFIX, { ...shared, BULL_BOARD_ADMIN_TOKENS: adminToken, LOG_LEVEL: 'info' }, logs);
  const address = await api.app.listen({ port: 0, host: '127.0.0.1' });

  return {
    url: address,
    token: api.token,
    adminToken,
    workerConfig: config,
    worker,
    api: api.app,
    apiDeps: api.deps,
    logs: logs.lines,
    cliEnv: { ...process.env, ...shared, PROVISIONER_URL: address, PROVISIONER_TOKEN: api.token },
    async close() {
      await api.app.close();
      await Promise.allSettled(Object.values(api.deps.queues).map((q) => q.obliterate({ force: true })));
      const keys = await api.deps.redis.keys(`${shared.QUEUE_PREFIX}:*`);
      if (keys.length > 0) await api.deps.redis.del(...keys);
      await worker.close(10_000);
      await api.deps.close();
    },
  };
}

/** An answer of the API, its JSON body as the tests read it. */
export interface Answer {
  status: number;
  body: Record<string, any>;
}

/** A call to the service's API over HTTP with its token, as a caller sends it; `wait` asks `Prefer: wait=N`. */
export async function callApi(s: Pick<Service, 'url' | 'token'>, method: string, path: string, body?: object, wait?: number): Promise<Answer> {
  const response = await fetch(`${s.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${s.token}`, ...(body ? { 'content-type': 'application/json' } : {}), ...(wait ? { prefer: `wait=${wait}` } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  return { status: response.status, body: (await response.json()) as Record<string, any> };
}
