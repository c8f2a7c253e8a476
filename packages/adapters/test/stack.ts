import { readFileSync } from 'node:fs';
import { rootCertificates } from 'node:tls';
import { Agent } from 'undici';
import { inject } from 'vitest';

/** The local stack's settings, as the integration globalSetup provides them. */
export function stackEnv(...names: string[]): Record<string, string> {
  const env = { ...process.env, ...inject('stackEnv') } as Record<string, string | undefined>;
  const missing = names.filter((name) => !env[name]);
  if (missing.length > 0) throw new Error(`the stack did not provide ${missing.join(', ')}`);
  return env as Record<string, string>;
}

/** A name no other test (or earlier run) uses: DNS-1123 safe. */
export { uniqueUsername as uniqueName } from '../../../test/helpers/names.js';

/** An undici agent that trusts the stack's CA, for the tests' own HTTP calls. */
export function stackAgent(caFile: string | undefined): Agent {
  return new Agent(caFile ? { connect: { ca: [...rootCertificates, readFileSync(caFile, 'utf8')] } } : {});
}

