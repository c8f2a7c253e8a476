import { readFileSync, writeFileSync } from 'node:fs';
import { apiErrorOf, type ApiClient } from '../api-client.js';
import { EXIT, UsageError, type CliIo } from '../io.js';
import { closeNewFile, openNewFile } from '../new-file.js';

export interface CohortOptions {
  name?: string | undefined;
  csv?: string | undefined;
  expiresAt?: string | undefined;
  profile?: string | undefined;
  /** credentials: write the CSV to this file (mode 0600) instead of stdout. */
  out?: string | undefined;
  json: boolean;
}

/** After an enqueue: follows the job (with --wait, progress bar on a terminal) and reports. */
export type Submitted = (answer: { jobId: string; alreadyPending?: boolean }, what: string) => Promise<number>;

const SUBCOMMANDS: Record<string, number> = { create: 0, list: 0, show: 1, delete: 1, credentials: 1 };

/** Checks the subcommand and its arguments before anything is sent. */
export function checkCohortArgs(args: string[]): void {
  const [sub, ...rest] = args;
  const wanted = sub === undefined ? undefined : SUBCOMMANDS[sub];
  if (wanted === undefined) throw new UsageError('cohort takes a subcommand: create, list, show, delete or credentials');
  if (rest.length !== wanted) throw new UsageError(`cohort ${sub} takes ${wanted === 0 ? 'no argument' : 'the cohort\'s name'}`);
}

/**
 * `provisioner cohort create --name X --csv people.csv [--wait]`, `cohort list`,
 * `cohort show <name>`, `cohort delete <name> [--wait]`, `cohort credentials <name> [--out F]`.
 */
export async function cohortCommand(api: ApiClient, io: CliIo, args: string[], options: CohortOptions, submitted: Submitted): Promise<number> {
  checkCohortArgs(args);
  const [sub, name] = args as [string, string | undefined];
  switch (sub) {
    case 'create': {
      if (!options.name || !options.csv) throw new UsageError('cohort create needs --name and --csv (a file whose header is email,full_name)');
      let text: string;
      try {
        text = readFileSync(options.csv, 'utf8');
      } catch (error) {
        throw new UsageError(`cannot read ${options.csv}: ${error instanceof Error ? error.message : String(error)}`);
      }
      const query = new URLSearchParams({ name: options.name, ...(options.expiresAt ? { expiresAt: options.expiresAt } : {}), ...(options.profile ? { profile: options.profile } : {}) });
      const response = await api.call('POST', `cohorts?${query}`, text, { 'content-type': 'text/csv' });
      if (response.status !== 202) throw apiErrorOf(response);
      return submitted(response.body as { jobId: string; alreadyPending: boolean }, `cohort ${options.name}`);
    }
    case 'list': {
      const page = await api.send([200], 'get', '/cohorts');
      if (options.json) io.out(JSON.stringify(page, null, 2));
      else io.out(page.items.length ? page.items.map((c) => c.name).join('\n') : 'no cohorts');
      return EXIT.ok;
    }
    case 'show': {
      const cohort = await api.send([200], 'get', '/cohorts/{name}', { params: { name: name as string } });
      if (options.json) io.out(JSON.stringify(cohort, null, 2));
      else {
        io.out(`cohort ${cohort.name}: ${cohort.members.length} members${cohort.truncated ? ' (more not shown)' : ''}`);
        for (const m of cohort.members) {
          io.out(`  ${m.username.padEnd(30)} ${(m.provisioned ? 'provisioned' : 'incomplete').padEnd(12)} namespace ${m.namespace}${m.labelled ? '' : ' (unlabelled)'}  expires ${m.expires ?? '-'}`);
        }
      }
      return EXIT.ok;
    }
    case 'delete': {
      const answer = await api.send([202], 'delete', '/cohorts/{name}', { params: { name: name as string } });
      return submitted(answer, `cohort ${name} deletion`);
    }
    default: {
      // The credentials, once: the API hands them out a single time, so the file is made
      // (new, yours alone) before they are asked for: a file that cannot be written loses nothing.
      const file = options.out === undefined ? undefined : openNewFile(options.out);
      try {
        const response = await api.call('GET', `cohorts/${encodeURIComponent(name as string)}/credentials`, undefined, { accept: 'text/csv' });
        if (response.status !== 200 || typeof response.body !== 'string') throw apiErrorOf(response);
        if (file === undefined) {
          io.out(response.body.trimEnd());
          return EXIT.ok;
        }
        writeFileSync(file.fd, response.body);
        file.written = true;
        io.err(`credentials of cohort ${name} written to ${options.out} (readable by you only); the API will not hand them out again`);
        return EXIT.ok;
      } finally {
        if (file) closeNewFile(file);
      }
    }
  }
}
