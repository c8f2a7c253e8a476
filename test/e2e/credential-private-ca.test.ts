// `provisioner credential` on a trainee's laptop that does not trust Keycloak's private CA
// (the stack's Keycloak is on one): the login fails saying what to set, not only Node's code.
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../helpers/service-account-kubeconfig.js';
import { stackEnv } from '../helpers/stack.js';

describe('provisioner credential against an issuer on a private CA', () => {
  it('names NODE_EXTRA_CA_CERTS when the certificate cannot be checked', async () => {
    const env: NodeJS.ProcessEnv = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', XDG_CACHE_HOME: mkdtempSync(join(tmpdir(), 'kup-ca-')), PROVISIONER_PASSWORD: 'not-used-1' };
    const args = ['--conditions=source', '--import', 'tsx', 'apps/cli/src/main.ts', 'credential', '--issuer', stackEnv('OIDC_ISSUER_URL'), '--client-id', stackEnv('KEYCLOAK_LOGIN_CLIENT_ID'), '--username', 'nobody'];
    const failure = await promisify(execFile)(process.execPath, args, { cwd: repoRoot, env, timeout: 60_000 }).then(
      () => undefined,
      (error: { code?: number; stderr?: string }) => error,
    );
    expect(failure?.code).not.toBe(0);
    expect(failure?.stderr).toMatch(/cannot reach the issuer .*: (UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT_LOCALLY|SELF_SIGNED_CERT_IN_CHAIN|DEPTH_ZERO_SELF_SIGNED_CERT) \(Keycloak on a private CA\? export NODE_EXTRA_CA_CERTS=/);
  });
});
