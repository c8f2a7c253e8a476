import { readFileSync } from 'node:fs';
import { rootCertificates } from 'node:tls';
import { Agent, request } from 'undici';
import { inject } from 'vitest';
import type { KeycloakAdapterOptions } from '../src/keycloak.adapter.js';

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


/** The Keycloak adapter's options for the stack's realm and client (`env` from `stackEnv` with the KEYCLOAK_* names). */
export function stackKeycloakOptions(env: Record<string, string>): KeycloakAdapterOptions {
  return {
    baseUrl: env.KEYCLOAK_URL!,
    realm: env.KEYCLOAK_REALM!,
    clientId: env.KEYCLOAK_CLIENT_ID!,
    clientSecret: env.KEYCLOAK_CLIENT_SECRET!,
    timeoutMs: 15_000,
    // The explicit CA path: works whether or not NODE_EXTRA_CA_CERTS reached this worker.
    caFile: env.STACK_CA_FILE,
  };
}

/** The provisioner client's own access token (client credentials grant), fetched through `agent`. */
export async function stackClientToken(options: KeycloakAdapterOptions, agent: Agent): Promise<string> {
  const response = await request(`${options.baseUrl}/realms/${options.realm}/protocol/openid-connect/token`, {
    method: 'POST',
    dispatcher: agent,
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'client_credentials', client_id: options.clientId, client_secret: options.clientSecret }).toString(),
  });
  return ((await response.body.json()) as { access_token: string }).access_token;
}
