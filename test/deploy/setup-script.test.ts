// scripts/setup.sh on a bare machine, with stand-ins for id, dpkg-query, sudo and apt-get on
// PATH: as root it installs what is missing and says so; otherwise it stops with one command.
import { execFile } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { repoRoot } from '../helpers/service-account-kubeconfig.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function stub(dir: string, name: string, body: string): void {
  writeFileSync(join(dir, name), `#!/usr/bin/env bash\n${body}\n`);
  chmodSync(join(dir, name), 0o755);
}

/** Runs `bash scripts/setup.sh --with-browser echo ran` on a machine where no package is installed. */
async function setup(uid: number, sudo: 'none' | 'passwordless'): Promise<{ code: number; out: string; apt: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'kup-setup-'));
  dirs.push(dir);
  const aptLog = join(dir, 'apt.log');
  stub(dir, 'id', `[[ "$1" == -u ]] && echo ${uid} || /usr/bin/id "$@"`);
  stub(dir, 'dpkg-query', 'exit 1');
  stub(dir, 'apt-get', `echo "$*" >> ${aptLog}`);
  stub(dir, 'sudo', sudo === 'passwordless' ? '[[ "$1" == -n ]] && shift; "$@"' : 'exit 1');
  stub(dir, 'kubectl', 'exit 0');
  stub(dir, 'go', 'exit 0');
  // Node 24 (this test's own) first, so ensure-node.sh has nothing to fetch.
  const env = { ...process.env, PATH: `${dir}:${dirname(process.execPath)}:/usr/bin:/bin`, KUP_SKIP_SYSTEM_SETUP: '' };
  const result = await promisify(execFile)('bash', [join(repoRoot, 'scripts/setup.sh'), '--with-browser', 'echo', 'ran'], { env }).then(
    ({ stdout, stderr }) => ({ code: 0, out: stdout + stderr }),
    (error: { code: number; stdout: string; stderr: string }) => ({ code: error.code, out: error.stdout + error.stderr }),
  );
  return { ...result, apt: existsSync(aptLog) ? readFileSync(aptLog, 'utf8') : '' };
}

describe('scripts/setup.sh', () => {
  it('as root, installs the missing Debian packages itself, says so, then runs the command', async () => {
    const { code, out, apt } = await setup(0, 'none');
    expect(code).toBe(0);
    expect(out).toMatch(/installing Debian packages redis-server openssl unzip maven chromium/);
    expect(apt).toMatch(/^update -qq$/m);
    expect(apt).toMatch(/^install -y -qq redis-server openssl unzip maven chromium/m);
    expect(out).toContain('ran');
  });

  it('with passwordless sudo, installs through sudo', async () => {
    const { code, apt } = await setup(1000, 'passwordless');
    expect(code).toBe(0);
    expect(apt).toMatch(/^install -y -qq redis-server/m);
  });

  it('otherwise stops before the command, printing the one command to run', async () => {
    const { code, out, apt } = await setup(1000, 'none');
    expect(code).not.toBe(0);
    expect(out).toMatch(/^ {4}sudo apt-get update && sudo apt-get install -y redis-server openssl unzip maven chromium/m);
    expect(out).not.toContain('ran');
    expect(apt).toBe('');
  });
});
