import { createAdapters } from '@kup/adapters';
import { ConfigError, loadWorkerConfig, type IdentityProvider, type IdentityUser } from '@kup/core';
import { EXIT, UsageError, type CliIo } from '../io.js';

export interface AdoptOptions {
  emailDomain: string | undefined;
  usernamePrefix: string | undefined;
  dryRun: boolean;
  yes: boolean;
  /** Every user of the realm: needed, instead of a filter, to change them all. */
  all?: boolean;
  json: boolean;
}

const PAGE = 100;

export function adoptable(user: IdentityUser, options: Pick<AdoptOptions, 'emailDomain' | 'usernamePrefix'>): boolean {
  if (user.managed && user.provisioned) return false;
  if (options.usernamePrefix && !user.username.startsWith(options.usernamePrefix)) return false;
  if (options.emailDomain && !user.email?.toLowerCase().endsWith(`@${options.emailDomain.toLowerCase()}`)) return false;
  return true;
}

/**
 * Adds `managed-by` and `provisioned` to existing Keycloak users (the old
 * `migrate_users.py`), through the IdentityProvider with the worker's env, not the API.
 * Pages through the realm; asks per user on a terminal, needs `--yes` otherwise; needs a
 * filter or `--all` (a dry run lists without one).
 */
export async function adoptCommand(io: CliIo, options: AdoptOptions, identityOverride?: IdentityProvider): Promise<number> {
  if (!options.dryRun && !options.yes && !io.interactive) {
    throw new UsageError('adopt changes Keycloak users: confirm on a terminal, or pass --yes (or --dry-run to only list them)');
  }
  // An unfiltered adopt takes the whole realm, whose old accounts the next cleanup deletes:
  // it must be asked for by name.
  const filtered = Boolean(options.emailDomain || options.usernamePrefix);
  if (filtered && options.all) throw new UsageError('adopt: --all cannot be combined with --email-domain or --username-prefix');
  if (!filtered && !options.all && !options.dryRun) {
    throw new UsageError('adopt changes Keycloak users: choose them with --email-domain or --username-prefix, or pass --all for every user of the realm');
  }
  let identity = identityOverride;
  let close = async (): Promise<void> => {};
  if (!identity) {
    try {
      const adapters = createAdapters(loadWorkerConfig(io.env), { caFile: io.env.STACK_CA_FILE });
      identity = adapters.identity;
      close = adapters.close;
    } catch (error) {
      if (error instanceof ConfigError) {
        io.err(`adopt talks to Keycloak directly and needs the worker's environment:\n${error.message}`);
        return EXIT.usage;
      }
      throw error;
    }
  }
  if (!identity.listUsers) throw new Error('this identity provider cannot list users');

  const adopted: string[] = [];
  const skipped: string[] = [];
  const candidates: string[] = [];
  try {
    // Adopting does not change who is listed (it only adds attributes): offsets stay valid.
    for (let first: number | undefined = 0; first !== undefined; ) {
      const page = await identity.listUsers(first, PAGE);
      for (const user of page.users.filter((u) => adoptable(u, options))) {
        candidates.push(user.username);
        if (options.dryRun) continue;
        const go = options.yes || (await io.confirm(`adopt ${user.username} <${user.email ?? 'no email'}>?`));
        if (!go) {
          skipped.push(user.username);
          continue;
        }
        await identity.adopt(user.id);
        adopted.push(user.username);
        if (!options.json) io.err(`adopted ${user.username}`);
      }
      first = page.next;
    }
  } finally {
    await close();
  }
  if (options.json) io.out(JSON.stringify({ dryRun: options.dryRun, candidates, adopted, skipped }, null, 2));
  else if (options.dryRun) io.out(candidates.length ? `would adopt:\n${candidates.map((c) => `  ${c}`).join('\n')}` : 'nobody to adopt');
  else io.out(`adopted ${adopted.length}, skipped ${skipped.length}`);
  return EXIT.ok;
}
