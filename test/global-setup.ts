// Vitest globalSetup of the `integration` project: brings the local stack up (or reuses a
// running one) and stops at the end only the servers that this run started — unless another
// test run still holds a lease on the stack (several runs share one checkout).
import type { TestProject } from 'vitest/node';
// Imported from source: globalSetup does not resolve the workspace's "source" export condition.
import { addLease, ensureStack, releaseLease, stopStack } from '../tools/stack/src/index.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    stackEnv: Record<string, string>;
  }
}

let startedByUs: string[] = [];

export async function setup(project: TestProject): Promise<void> {
  addLease();
  const result = await ensureStack();
  startedByUs = result.startedByUs;
  for (const [name, value] of Object.entries(result.env)) process.env[name] = value;
  project.provide('stackEnv', result.env);
}

export async function teardown(): Promise<void> {
  const others = releaseLease();
  if (startedByUs.length === 0) return;
  if (others.length > 0) {
    console.error(`[stack] left running: other test runs (pids ${others.join(', ')}) still use it`);
    return;
  }
  await stopStack({ only: startedByUs });
}
