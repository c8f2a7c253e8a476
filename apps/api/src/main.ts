import { ConfigError, configWarnings, createLogger, loadApiConfig, startTracing, type ApiEnv } from '@kup/core';
import { buildApp } from './app.js';
import { createApiDeps } from './deps.js';

const SHUTDOWN_DEADLINE_MS = 10_000;

function loadConfig(): ApiEnv {
  try {
    return loadApiConfig();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(error.message);
    process.exit(1);
  }
}

const config = loadConfig();
// A turn's access lines leave in one write (logger.ts, turn-batch.ts).
const logger = createLogger({ name: 'api', level: config.LOG_LEVEL, batchPerTurn: true });
for (const warning of configWarnings(config)) logger.warn(warning); // old deployment's settings in use
// Only with OTEL_EXPORTER_OTLP_ENDPOINT; otherwise the SDK is not even loaded.
const tracing = await startTracing({ serviceName: 'k8s-user-provisioner-api' });
if (tracing) logger.info('tracing: exporting spans by OTLP');
const deps = createApiDeps(config, logger);
const app = await buildApp(config, deps);

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, 'shutting down');
  const deadline = setTimeout(() => {
    logger.error('shutdown deadline passed; exiting');
    process.exit(1);
  }, SHUTDOWN_DEADLINE_MS);
  deadline.unref();
  const started = Date.now();
  try {
    await app.close(); // stops accepting, lets requests in flight finish
    await deps.close();
    await tracing?.shutdown().catch((error: unknown) => logger.warn({ err: String(error) }, 'tracing: last spans not exported'));
    logger.info({ ms: Date.now() - started }, 'stopped');
    process.exit(0);
  } catch (error) {
    logger.error({ err: error }, 'shutdown failed');
    process.exit(1);
  }
}
process.once('SIGTERM', () => void shutdown('SIGTERM'));
process.once('SIGINT', () => void shutdown('SIGINT'));

try {
  await app.listen({ host: config.HOST, port: config.PORT });
} catch (error) {
  logger.fatal({ err: error }, 'cannot listen');
  await deps.close();
  process.exit(1);
}
