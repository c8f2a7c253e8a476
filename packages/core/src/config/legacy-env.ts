import { readFileSync } from 'node:fs';
import { parseEnv } from 'node:util';

/**
 * The old deployment's settings, so that it can be redeployed unchanged: its environment
 * names are taken as aliases of ours (each with a warning at boot naming the new one), and
 * `ENV_FILE` loads a dotenv file such as the one the Vault agent wrote for the old pod
 * (`/vault/secrets/config`). Values never appear in a warning or an issue: they are secrets.
 */

export type ConfigRole = 'api' | 'worker';

export interface LegacyEnv {
  /** The environment with the file loaded and the aliases resolved. */
  env: NodeJS.ProcessEnv;
  /** Say these at boot (warn level). */
  warnings: string[];
  /** Problems that stop the boot (e.g. ENV_FILE unreadable). */
  issues: string[];
  /** The API token came through the old name and is shorter than the new minimum: accept it. */
  shortLegacyToken: boolean;
}

/** The API token's minimum length for API_TOKENS (the old service had none). */
export const MIN_API_TOKEN_LENGTH = 16;

const set = (value: string | undefined): value is string => value !== undefined && value !== '';

interface Alias {
  old: string;
  new: string;
  role: ConfigRole;
  /** Turns the old value into the new one. */
  convert?: (value: string) => string;
  hint?: string;
}

/** `https://kc.example.com/auth/` → `https://kc.example.com`: Keycloak 17+ serves at the root. */
export function keycloakUrlFromBase(value: string): string {
  return value.trim().replace(/\/+$/, '').replace(/\/auth$/, '');
}

const ALIASES: Alias[] = [
  { old: 'VERIFICATION_TOKEN', new: 'API_TOKENS', role: 'api', hint: 'a comma-separated list, so tokens can be rotated' },
  {
    old: 'KEYCLOAK_BASE_URL',
    new: 'KEYCLOAK_URL',
    role: 'worker',
    convert: keycloakUrlFromBase,
    hint: 'the URL Keycloak serves at, without /auth unless your Keycloak still serves under /auth',
  },
  { old: 'GRAFANA_USER', new: 'GRAFANA_ADMIN_USER', role: 'worker' },
  { old: 'GRAFANA_PASSWORD', new: 'GRAFANA_ADMIN_PASSWORD', role: 'worker' },
  // The old pod held the kubeconfig itself, as JSON, in the variable; ours reads a file
  // (KUBECONFIG) or the in-cluster service account. KUBE_CONFIG stays readable by the
  // worker (see KUBE_CONFIG in env.ts), so it is not renamed here.
];

/** Reads `ENV_FILE` (dotenv syntax); what the real environment sets wins over the file. */
function withEnvFile(env: NodeJS.ProcessEnv, issues: string[]): NodeJS.ProcessEnv {
  const path = env.ENV_FILE;
  if (!set(path)) return env;
  let content: string;
  try {
    content = readFileSync(path, 'utf8');
  } catch (error) {
    issues.push(`ENV_FILE: cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
    return env;
  }
  const fromFile = parseEnv(content) as Record<string, string>;
  const merged: NodeJS.ProcessEnv = { ...fromFile };
  for (const [key, value] of Object.entries(env)) if (set(value)) merged[key] = value;
  return merged;
}

export function resolveLegacyEnv(input: NodeJS.ProcessEnv, role: ConfigRole): LegacyEnv {
  const issues: string[] = [];
  const warnings: string[] = [];
  const env = { ...withEnvFile(input, issues) }; // never write to the caller's process.env
  let shortLegacyToken = false;

  for (const alias of ALIASES) {
    if (alias.role !== role || !set(env[alias.old])) continue;
    if (set(env[alias.new])) {
      warnings.push(`${alias.old} is ignored: ${alias.new} is set (${alias.old} is the old service's name; remove it)`);
      continue;
    }
    const value = alias.convert ? alias.convert(env[alias.old] as string) : (env[alias.old] as string);
    env[alias.new] = value;
    warnings.push(`${alias.old} is the old service's name for ${alias.new}: rename it to ${alias.new}${alias.hint ? ` (${alias.hint})` : ''}`);
    if (alias.new === 'API_TOKENS') {
      if (value.includes(',')) {
        issues.push('VERIFICATION_TOKEN: holds a comma; the old name takes one token, set API_TOKENS for a list');
      } else if (value.trim().length < MIN_API_TOKEN_LENGTH) {
        shortLegacyToken = true;
        warnings.push(
          `VERIFICATION_TOKEN is shorter than ${MIN_API_TOKEN_LENGTH} characters: accepted only because it comes through the old name; ` +
            `put a longer one in API_TOKENS (e.g. openssl rand -base64 32)`,
        );
      }
    }
  }

  if (role === 'worker' && set(env.KUBE_CONFIG)) {
    warnings.push(
      set(env.KUBECONFIG)
        ? 'KUBE_CONFIG is ignored: KUBECONFIG is set (KUBE_CONFIG is the old service\'s kubeconfig-in-a-variable; remove it)'
        : 'KUBE_CONFIG (a kubeconfig in the variable) is the old service\'s setting: mount the kubeconfig as a file and set KUBECONFIG to its path, or run in-cluster with the service account',
    );
  }
  return { env, warnings, issues, shortLegacyToken };
}

// Warnings travel with the config object, so the mains can log them once a logger exists
// and loadApiConfig/loadWorkerConfig keep their signatures.
const warningsOf = new WeakMap<object, readonly string[]>();

export function rememberConfigWarnings<T extends object>(config: T, warnings: readonly string[]): T {
  warningsOf.set(config, warnings);
  return config;
}

/** The boot warnings of a config made by loadApiConfig or loadWorkerConfig (old names used). */
export function configWarnings(config: object): readonly string[] {
  return warningsOf.get(config) ?? [];
}
