import { ConfigError, InvalidTemplatesError, configWarnings, loadWorkerConfig, startTracing } from '@kup/core';
import { createWorkerApp } from './worker.js';

/** Entry point: `npm run start:worker`. Config from the environment only. */
let config: ReturnType<typeof loadWorkerConfig>;
try {
  config = loadWorkerConfig();
} catch (error) {
  if (error instanceof ConfigError) {
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
  }
  throw error;
}

// Only with OTEL_EXPORTER_OTLP_ENDPOINT; otherwise the SDK is not even loaded.
const tracing = await startTracing({ serviceName: 'k8s-user-provisioner-worker' });
const app = createWorkerApp(config);
for (const warning of configWarnings(config)) app.logger.warn(warning); // old deployment's settings in use
if (tracing) app.logger.info('tracing: exporting spans by OTLP');
// After the jobs' shutdown timeout, time to force-close workers and quit Redis; then exit
// anyway (a Redis that never answers QUIT must not hold the pod until SIGKILL).
// test/deploy/manifests.test.ts keeps WORKER_SHUTDOWN_TIMEOUT_SECONDS + this below terminationGracePeriodSeconds.
const SHUTDOWN_MARGIN_MS = 5_000;
let stopping = false;
const stop = (signal: NodeJS.Signals) => {
  if (stopping) return;
  stopping = true;
  app.logger.info({ signal }, 'shutting down');
  const hardDeadline = config.WORKER_SHUTDOWN_TIMEOUT_SECONDS * 1000 + SHUTDOWN_MARGIN_MS;
  setTimeout(() => {
    app.logger.error({ ms: hardDeadline }, 'shutdown did not finish in time: exiting');
    process.exit(1);
  }, hardDeadline).unref();
  app.close().then(
    async () => {
      await tracing?.shutdown().catch((error: unknown) => app.logger.warn({ err: String(error) }, 'tracing: last spans not exported'));
      process.exit(0);
    },
    (error: unknown) => {
      app.logger.error({ err: String(error) }, 'shutdown failed');
      process.exit(1);
    },
  );
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);

try {
  await app.start();
} catch (error) {
  if (error instanceof InvalidTemplatesError) {
    app.logger.fatal({ problems: error.problems }, 'invalid namespace templates: not starting');
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
  }
  throw error;
}
