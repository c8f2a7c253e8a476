import { ConfigError, loadWorkerConfig } from '@kup/core';
import { createWorkerApp } from './worker.js';

/** Entry point: `npm run start:worker`. Config from the environment only. */
let config;
try {
  config = loadWorkerConfig();
} catch (error) {
  if (error instanceof ConfigError) {
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
  }
  throw error;
}

const app = createWorkerApp(config);
let stopping = false;
const stop = (signal: NodeJS.Signals) => {
  if (stopping) return;
  stopping = true;
  app.logger.info({ signal }, 'shutting down');
  app.close().then(
    () => process.exit(0),
    (error: unknown) => {
      app.logger.error({ err: String(error) }, 'shutdown failed');
      process.exit(1);
    },
  );
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);

await app.start();
