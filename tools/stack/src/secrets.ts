import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { stackPath } from './paths.js';

export interface Secrets {
  keycloakAdminUser: string;
  keycloakAdminPassword: string;
  keycloakClientSecret: string;
  grafanaAdminUser: string;
  grafanaAdminPassword: string;
  resultEncryptionKey: string;
  apiToken: string;
}

const token = (bytes: number): string => randomBytes(bytes).toString('base64url');

function secretsFile(): string {
  return stackPath('secrets.json');
}

export function readSecrets(): Secrets | undefined {
  if (!existsSync(secretsFile())) return undefined;
  return JSON.parse(readFileSync(secretsFile(), 'utf8')) as Secrets;
}

/** Generated once at the first `up`, kept in .stack/secrets.json (mode 600). */
export function ensureSecrets(): Secrets {
  const existing: Partial<Secrets> = readSecrets() ?? {};
  const generated: Secrets = {
    keycloakAdminUser: 'stack-admin',
    keycloakAdminPassword: token(18),
    keycloakClientSecret: token(24),
    grafanaAdminUser: 'admin',
    grafanaAdminPassword: token(18),
    resultEncryptionKey: randomBytes(32).toString('base64'),
    apiToken: token(32),
  };
  const secrets = { ...generated, ...existing };
  if (Object.keys(existing).length !== Object.keys(secrets).length) {
    writeFileSync(secretsFile(), JSON.stringify(secrets, null, 2) + '\n', { mode: 0o600 });
  }
  return secrets;
}
