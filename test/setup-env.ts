// setupFile of the `integration` project: the stack's env (from test/global-setup.ts) in every worker.
import { inject } from 'vitest';

for (const [name, value] of Object.entries(inject('stackEnv'))) process.env[name] = value;

// Workers started by tests (in-process or as child processes inheriting this env) pick a
// free health port, so several can run at once; a test may still set its own.
process.env.WORKER_HEALTH_PORT ??= '0';
