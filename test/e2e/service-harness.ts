// The whole service in this process against the stack: the API listening on a free port
// and the worker app (provisioning + fleet), sharing a queue prefix and encryption key of
// the test's own. For tests that drive it from outside (CLI, browser).
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { createLogger, loadApiConfig, type WorkerEnv } from '@kup/core';
import { buildApp, createApiDeps, type ApiDeps } from '@kup/api';
import { createWorkerApp, type WorkerApp } from '@kup/worker';
import { uniquePrefix } from '../helpers/names.js';
import { ensureTraineeClusterRole, stackEnv, workerConfig } from '../helpers/stack.js';

export interface Service {
  url: string;
  token: string;
  /** A Bull Board admin token (BULL_BOARD_ADMIN_TOKENS): not an API token. */
  adminToken: string;
  workerConfig: WorkerEnv;
  worker: WorkerApp;
  api: FastifyInstance;
  apiDeps: ApiDeps;
  logs: string[];
  /** The env a CLI process needs: the API's URL and token plus the worker's upstream settings. */
  cliEnv: NodeJS.ProcessEnv;
  close(): Promise<void>;
}

export async function startService(): Promise<Service> {
  await ensureTraineeClusterRole();
  const shared = {
    QUEUE_PREFIX: uniquePrefix('svc'),
    RESULT_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    JOB_BACKOFF_MS: '300',
    RESET_SCHEDULE_ENABLED: 'true',
    CLEANUP_SCHEDULE_ENABLED: 'true',
  };
  const token = `tok-${randomBytes(16).toString('hex')}`;
  const adminToken = `adm-${randomBytes(16).toString('hex')}`;
  const logs: string[] = [];
  const sink = new Writable({ write: (chunk, _encoding, done) => void (logs.push(String(chunk)), done()) });
  const logger = createLogger({ name: 'service-test', level: 'info' }, sink);

  const config = workerConfig(shared);
  const worker = createWorkerApp(config, { logger, caFile: stackEnv('STACK_CA_FILE') });
  await worker.start();
  const apiConfig = loadApiConfig({ ...process.env, ...shared, API_TOKENS: token, BULL_BOARD_ADMIN_TOKENS: adminToken, LOG_LEVEL: 'info' });
  const apiDeps = createApiDeps(apiConfig, logger);
  const api = await buildApp(apiConfig, apiDeps);
  const address = await api.listen({ port: 0, host: '127.0.0.1' });

  return {
    url: address,
    token,
    adminToken,
    workerConfig: config,
    worker,
    api,
    apiDeps,
    logs,
    cliEnv: { ...process.env, ...shared, PROVISIONER_URL: address, PROVISIONER_TOKEN: token },
    async close() {
      await api.close();
      await Promise.allSettled(Object.values(apiDeps.queues).map((q) => q.obliterate({ force: true })));
      const keys = await apiDeps.redis.keys(`${shared.QUEUE_PREFIX}:*`);
      if (keys.length > 0) await apiDeps.redis.del(...keys);
      await worker.close(10_000);
      await apiDeps.close();
    },
  };
}
