// setupFile of the `integration` project: the stack's env (from test/global-setup.ts) in every worker.
import { inject } from 'vitest';

for (const [name, value] of Object.entries(inject('stackEnv'))) process.env[name] = value;
