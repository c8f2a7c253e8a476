// Vitest globalSetup of the `integration` project: brings the local stack up (or reuses a
// running one) and stops at the end only the servers that this run started.
import type { TestProject } from 'vitest/node';
// Imported from source: globalSetup does not resolve the workspace's "source" export condition.
import { ensureStack, stopStack } from '../tools/stack/src/index.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    stackEnv: Record<string, string>;
  }
}

let startedByUs: string[] = [];

export async function setup(project: TestProject): Promise<void> {
  const result = await ensureStack();
  startedByUs = result.startedByUs;
  for (const [name, value] of Object.entries(result.env)) process.env[name] = value;
  project.provide('stackEnv', result.env);
}

export async function teardown(): Promise<void> {
  if (startedByUs.length === 0) return;
  await stopStack({ only: startedByUs });
}
