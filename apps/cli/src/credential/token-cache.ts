import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

/**
 * The tokens `provisioner credential` keeps between kubectl runs, one file per issuer,
 * client and user, readable by the user alone (directory 0700, file 0600): the refresh
 * token in it logs in as them.
 */

export interface CachedTokens {
  idToken: string;
  refreshToken?: string;
}

export interface CacheKey {
  issuer: string;
  clientId: string;
  username?: string;
}

/** `$XDG_CACHE_HOME/provisioner/credentials`, else `~/.cache/provisioner/credentials`. */
export function credentialCacheDir(env: NodeJS.ProcessEnv): string {
  const base = env.XDG_CACHE_HOME?.startsWith('/') ? env.XDG_CACHE_HOME : join(env.HOME || homedir(), '.cache');
  return join(base, 'provisioner', 'credentials');
}

/** The file for one issuer, client and user: a hash, so that no name needs escaping. */
export function cacheFile(env: NodeJS.ProcessEnv, key: CacheKey): string {
  const digest = createHash('sha256').update(JSON.stringify([key.issuer, key.clientId, key.username ?? ''])).digest('hex');
  return join(credentialCacheDir(env), `${digest.slice(0, 40)}.json`);
}

/** The cached tokens, or undefined when there are none or the file is unreadable or malformed. */
export function readCache(file: string): CachedTokens | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
  const tokens = parsed as Partial<CachedTokens> | null;
  if (typeof tokens?.idToken !== 'string') return undefined;
  return { idToken: tokens.idToken, ...(typeof tokens.refreshToken === 'string' ? { refreshToken: tokens.refreshToken } : {}) };
}

/** Writes atomically (a temporary file renamed), never readable by anyone else, not even for an instant. */
export function writeCache(file: string, tokens: CachedTokens): void {
  const dir = join(file, '..');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  // mkdir's mode only applies to directories it creates, and is masked by the umask.
  chmodSync(dir, 0o700);
  chmodSync(join(dir, '..'), 0o700);
  const tmp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    writeFileSync(tmp, `${JSON.stringify(tokens)}\n`, { mode: 0o600, flag: 'wx' });
    renameSync(tmp, file);
  } finally {
    rmSync(tmp, { force: true });
  }
  chmodSync(file, 0o600);
}

export function dropCache(file: string): void {
  rmSync(file, { force: true });
}
