// A fourth P1 reference, information only: the real API (the built apps/api, started as
// main.ts starts it) with its queue taken away. The provisioning queue's add answers a job at
// once and the read-back finds no other holder, so a create does everything the API does
// (token check, zod, username, reserved names, access log, metrics, the submitter, the reply)
// except reach Redis (our enqueue code around the add and read-back still runs). Against the
// one-add route, P1f is what the API could reach if its add and read-back cost nothing.
// Any other command that reaches Redis after start-up is refused, so it shows as non-2xx
// answers in the figures instead of being measured silently.
import { buildApp, createApiDeps } from '@kup/api';
import { createLogger, loadApiConfig } from '@kup/core';

const config = loadApiConfig();
const logger = createLogger({ name: 'api', level: config.LOG_LEVEL, batchPerTurn: true });
const deps = createApiDeps(config, logger);
const app = await buildApp(config, deps);

deps.queues.provisioning.add = async (name, data, opts) => ({ id: opts?.jobId, name, data, opts, timestamp: Date.now() });
deps.redis.hmget = async () => [null, null];
await app.listen({ host: config.HOST, port: config.PORT });
deps.redis.sendCommand = (command) => {
  command.reject(new Error(`floor server: ${command.name} would reach Redis`));
  return command.promise;
};
process.stdout.write('floor server listening\n');
// Redis is refused by now: the connections close with the process.
process.once('SIGTERM', () => void app.close().finally(() => process.exit(0)));
