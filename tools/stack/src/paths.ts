import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Repository root: tools/stack/src (or dist) → ../../.. */
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

/** Versions the stack runs; the cache is keyed by them. */
export const versions = {
  kubernetes: 'v1.35.4',
  etcd: 'v3.6.16',
  keycloak: '26.5.5',
} as const;

export function stackDir(): string {
  return process.env.KUP_STACK_DIR ? resolve(process.env.KUP_STACK_DIR) : join(repoRoot, '.stack');
}

export function cacheDir(): string {
  return process.env.KUP_CACHE_DIR
    ? resolve(process.env.KUP_CACHE_DIR)
    : join(homedir(), '.cache', 'k8s-user-provisioner');
}

export const stackPath = (...parts: string[]): string => join(stackDir(), ...parts);
export const cachePath = (...parts: string[]): string => join(cacheDir(), ...parts);
