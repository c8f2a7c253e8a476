// `npm run local`: the whole service on this machine. Brings up the local stack (or
// reuses it), installs the trainee ClusterRole into its cluster, then runs the API and
// the worker from source against it until Ctrl-C. The stack keeps running afterwards
// (`npm run stack:down` stops it).
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { prettyFactory } from 'pino-pretty';
import { ensureStack } from '../tools/stack/src/index.ts';

const TRAINEE_ROLE = 'k8s/components/trainee-clusterrole/trainee-clusterrole.yaml';
const port = process.env.PORT ?? '3000';

// The apps log JSON lines; here, for a person at a terminal, they are made readable
// (the apps themselves never load pino-pretty: it is a dev dependency).
const pretty = prettyFactory({ colorize: process.stdout.isTTY === true, singleLine: true, ignore: 'pid,hostname' });
function readable(line: string): string {
  if (!line.startsWith('{')) return line;
  try {
    return pretty(line).trimEnd();
  } catch {
    return line;
  }
}

function run(name: string, entry: string, env: NodeJS.ProcessEnv): ChildProcess {
  const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', entry], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream }).on('line', (line) => console.log(`[${name}] ${readable(line)}`));
  }
  child.on('exit', (code, signal) => {
    console.log(`[local] ${name} exited (${signal ?? code})`);
    if (!stopping) shutdown(1);
  });
  return child;
}

let stopping = false;
const children: ChildProcess[] = [];

function shutdown(code: number): void {
  if (stopping) return;
  stopping = true;
  console.log('[local] stopping api and worker (the stack keeps running: npm run stack:down)');
  for (const child of children) child.kill('SIGTERM');
  const deadline = setTimeout(() => {
    for (const child of children) child.kill('SIGKILL');
    process.exit(code);
  }, 15_000);
  deadline.unref();
  Promise.all(children.map((c) => (c.exitCode !== null ? undefined : new Promise((r) => c.once('exit', r))))).then(() => process.exit(code));
}

const { env: stackEnv } = await ensureStack();
if (existsSync(TRAINEE_ROLE)) {
  // --force-conflicts: the role is the repository's, and the tests (another field manager)
  // may have applied an older or newer version of it to the same local cluster.
  await promisify(execFile)('kubectl', ['--kubeconfig', stackEnv.KUBECONFIG ?? '', 'apply', '--server-side', '--force-conflicts', '-f', TRAINEE_ROLE]);
}
// Bull Board's admin token (writes through Bull Board): a fresh random one per run, unless given.
const adminTokens = process.env.BULL_BOARD_ADMIN_TOKENS || randomBytes(24).toString('base64url');
const adminToken = adminTokens.split(',')[0]?.trim();
const env = {
  ...process.env,
  ...stackEnv,
  BULL_BOARD_ADMIN_TOKENS: adminTokens,
  PORT: port,
  HOST: '127.0.0.1',
  // Welcome messages name the kubeconfig route under it.
  API_PUBLIC_URL: process.env.API_PUBLIC_URL || `http://127.0.0.1:${port}`,
  WORKER_HEALTH_PORT: process.env.WORKER_HEALTH_PORT ?? '0',
};
children.push(run('api', 'apps/api/src/main.ts', env), run('worker', 'apps/worker/src/main.ts', env));

const token = (stackEnv.API_TOKENS ?? '').split(',')[0];
const url = `http://127.0.0.1:${port}`;
console.log(`
[local] k8s-user-provisioner is starting on ${url}
  API token (shown once; also in .stack/env):  ${token}
  OpenAPI docs:  ${url}/docs
  Bull Board:    ${url}/admin/queues   (any user name, the token as password: read-only)
                 to change things there, the admin token (this run only) as password:  ${adminToken}
  Try:
    curl -s -X POST ${url}/provisioner -H "Authorization: Bearer $TOKEN" \\
      -H 'Content-Type: application/json' -H 'Prefer: wait=60' \\
      -d '{"email":"jean.dupont@example.com","full_name":"Jean Dupont"}'
`);

process.on('SIGINT', () => shutdown(0));
process.on('SIGTERM', () => shutdown(0));
