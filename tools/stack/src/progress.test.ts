import { execFile } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { repoRoot } from './paths.js';
import { progressLine } from './progress.js';

const MB = { name: 'MB', size: 1e6 };

describe('progressLine', () => {
  it('says how much is done and, from the rate so far, how long remains', () => {
    // 40 MB in 10 s → 4 MB/s; 125 MB left → about 31 s
    const line = progressLine('keycloak: downloading', { at: 0, done: 0 }, { at: 10_000, done: 40e6 }, 165e6, MB);
    expect(line).toBe('keycloak: downloading: 40 MB of about 165 MB (24%), about 31 s left');
  });

  it('counts minutes for long waits and says when nothing arrived', () => {
    expect(progressLine('x', { at: 0, done: 10 }, { at: 60_000, done: 20 }, 110)).toBe('x: 20 of about 110 (18%), about 9 min left');
    expect(progressLine('x', { at: 0, done: 0 }, { at: 30_000, done: 0 }, 165e6, MB)).toBe('x: 0 MB of about 165 MB (0%), nothing received yet');
  });
});

// build-control-plane.sh with a stand-in `go` on PATH: the progress lines, and a failed build fails.
describe('build-control-plane.sh progress', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  async function buildEtcd(buildExit: number): Promise<{ code: number; stderr: string; stdout: string }> {
    const dir = mkdtempSync(join(tmpdir(), 'kup-build-'));
    dirs.push(dir);
    const fakeGo = join(dir, 'go');
    writeFileSync(fakeGo, `#!/usr/bin/env bash
case "$1" in
  list) printf 'p%s\\n' 1 2 3 4 ;;
  build) printf 'p1\\np2\\np3\\n'; ${buildExit === 0 ? "echo p4" : "echo './x.go:1: syntax error'; exit 2"} ;;
esac
`);
    chmodSync(fakeGo, 0o755);
    const script = join(repoRoot, 'tools', 'stack', 'scripts', 'build-control-plane.sh');
    const env = { ...process.env, PATH: `${dir}:${process.env.PATH ?? ''}`, KUP_CACHE_DIR: join(dir, 'cache'), PROGRESS_EVERY: '0' };
    return promisify(execFile)('bash', [script, 'etcd'], { env }).then(
      ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
      (error: { code: number; stdout: string; stderr: string }) => ({ code: error.code, stdout: error.stdout, stderr: error.stderr }),
    );
  }

  it('prints how many packages are compiled out of how many', async () => {
    const { code, stdout } = await buildEtcd(0);
    expect(code).toBe(0);
    expect(stdout).toMatch(/etcd v[\d.]+: compiled 2 of 4 packages, about \d+ min left/);
    expect(stdout).toMatch(/etcd v[\d.]+ built in /);
  });

  it('fails, showing the compiler message, when go build fails', async () => {
    const { code, stdout, stderr } = await buildEtcd(2);
    expect(code).not.toBe(0);
    expect(stderr).toContain('./x.go:1: syntax error');
    expect(stdout).not.toMatch(/built in/);
  });
});
