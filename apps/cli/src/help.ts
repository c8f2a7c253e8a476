import { readFileSync } from 'node:fs';

/** One command's help: `provisioner <command> --help` or `provisioner help <command>`. */
interface CommandHelp {
  usage: string;
  summary: string;
  details: string;
}

const WAIT = `  --wait            wait for the job to end, showing progress on stderr
  --timeout S       longest wait in seconds (default 900); then exit 3, the job still runs
  --json            the answer (or the finished job) as JSON on stdout`;

export const COMMANDS: Record<string, CommandHelp> = {
  create: {
    usage: 'create <email> <full_name> [--expires-at <ISO 8601>] [--profile <name>] [--wait]',
    summary: 'provision a trainee',
    details: `Queues a create job: namespace, Keycloak user, Grafana user. --expires-at: when the trainee is removed (default: DEFAULT_EXPIRY_DAYS from now); --profile: a quota profile.\n\n${WAIT}`,
  },
  delete: { usage: 'delete <email> <full_name> [--wait]', summary: 'remove a trainee', details: `Queues a delete job (the email-derived username, then the name-derived one).\n\n${WAIT}` },
  reset: {
    usage: 'reset [--username U | --cohort C] [--mode recreate|purge] [--username-prefix P] [--wait]',
    summary: "reset trainees' namespaces",
    details: `Every trainee's namespace, or one (--username); recreate (default) or purge in place.\n  --username-prefix P  only users whose name starts with P\n\n${WAIT}`,
  },
  cleanup: {
    usage: 'cleanup [--max-age-days N] [--dry-run] [--username-prefix P] [--confirm-mass-delete] [--wait]',
    summary: 'delete trainees past their age or expiry',
    details: `Deletes trainees older than N days (365) or past their expiresAt.\n  --dry-run         list them, delete nothing\n  --confirm-mass-delete  needed when it would delete more than CLEANUP_MAX_SHARE_WITHOUT_CONFIRM\n  --username-prefix P  only users whose name starts with P\n\n${WAIT}`,
  },
  sync: {
    usage: 'sync [--username U] [--username-prefix P] [--dry-run] [--wait]',
    summary: 'repair drift (namespace, RBAC, quota, Grafana user)',
    details: `Repairs what is missing for every provisioned trainee, or one (--username).\n  --dry-run         list, per user, what it would repair; change nothing\n  --username-prefix P  only users whose name starts with P\n\n${WAIT}`,
  },
  cohort: {
    usage: 'cohort create --name X --csv people.csv [--expires-at T] [--profile P] [--wait] | list | show <name> | delete <name> [--wait] | credentials <name> [--out F]',
    summary: 'a class of trainees: create from CSV, list, show, delete, hand out credentials',
    details: `  create            one trainee per CSV row (header email,full_name); every bad row is listed, nothing is made
  list, show <name> the cohorts; a cohort's members and their state
  delete <name>     every member (namespace, Keycloak and Grafana users)
  credentials <name>  username,email,password,namespace as CSV, once (the API hands them out a single time)
  --out F           credentials: write them to F (created, mode 0600) instead of stdout

${WAIT}`,
  },
  status: { usage: 'status <jobId> [--wait]', summary: "a job's state, progress and result", details: `Shows a job; with --wait, follows it to its end.\n\n${WAIT}` },
  schedules: { usage: 'schedules [--json]', summary: 'the job schedulers and their next run', details: '  --json            as JSON on stdout' },
  process: {
    usage: 'process [--prefix P] [--json]',
    summary: "the old test client's full scenario, checked in every system",
    details: "Creates, resets, cleans up and syncs users of its own (prefix P) and checks Keycloak,\nKubernetes and Grafana directly: needs the worker's environment too.",
  },
  adopt: {
    usage: 'adopt (--email-domain D | --username-prefix P | --all) [--dry-run] [--yes]',
    summary: 'mark existing Keycloak users as managed (uses the worker\'s env)',
    details: 'Marks the matching Keycloak users as managed by the provisioner. Asks first on a\nterminal; elsewhere needs --yes. A filter, or --all for every user of the realm, is required.\n  --dry-run         list them, change nothing',
  },
  kubeconfig: {
    usage: 'kubeconfig <username> [-o file]',
    summary: "a trainee's kubeconfig (YAML)",
    details: '  -o, --output F    write it to F (mode 0600) instead of stdout\nThe trainee logs in through it with their own password: docs/kubeconfig.md.',
  },
  trainees: {
    usage: 'trainees list|show <username>|extend <username> <expiresAt>|profile <username> <profile>|reset-password <username> [--out F] [--json]',
    summary: 'the trainees: list them, show one, move an expiry or a quota profile, replace a lost password',
    details:
      '  list [--prefix P] [--state provisioned|incomplete] [--expires-before ISO] [--created-before ISO]\n' +
      '       [--limit N] [--cursor C] [--all]   a page of trainees (--all: every page)\n' +
      '  show <username>                 live state in Keycloak, Kubernetes and Grafana, drift, last jobs\n' +
      '  extend <username> <expiresAt>   a new expiry (ISO 8601, earlier or later); --wait for the result\n' +
      '  profile <username> <profile>    another quota profile (small, medium, large or the operator\'s); --wait\n' +
      '  reset-password <username>       a new password in Keycloak and Grafana, waited for and printed\n' +
      '       [--out F]                  (--out: written to F, created new with mode 0600 before the request)\n' +
      'A table on a terminal, tab-separated lines otherwise.\n  --json            the API\'s answer as JSON on stdout',
  },
  credential: {
    usage: 'credential --issuer URL --client-id ID [--username U]',
    summary: 'kubectl exec credential plugin (the kubeconfig runs it)',
    details: 'Prints an ExecCredential with an OIDC ID token: cached (~/.cache/provisioner, or\n$XDG_CACHE_HOME), refreshed, or from a login: the password grant when PROVISIONER_PASSWORD\nis set, else a link and a code to type in a browser (device authorization grant).',
  },
};

const EXITS = 'Exit codes: 0 done, 1 failed, 2 usage, 3 --wait timed out (the job still runs).';
const CONNECTION = 'The API: PROVISIONER_URL and PROVISIONER_TOKEN, or --url U and --token T. NO_COLOR=1: no colours.';

export const USAGE = `Usage: provisioner <command> [options]

Commands:
${Object.values(COMMANDS).map((c) => `  ${c.usage.split(' ')[0]?.padEnd(11)} ${c.summary}`).join('\n')}

  provisioner <command> --help   the options of a command
  provisioner --version

${CONNECTION}
${EXITS}`;

export function commandHelp(name: string): string | undefined {
  const command = COMMANDS[name];
  if (!command) return undefined;
  return `Usage: provisioner ${command.usage}\n\n${command.summary[0]?.toUpperCase()}${command.summary.slice(1)}.\n${command.details}\n\n${CONNECTION}\n${EXITS}`;
}

/** The CLI's version (its package.json: src/ and dist/ sit at the same depth). */
export function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}
