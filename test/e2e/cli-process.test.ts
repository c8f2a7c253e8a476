// The CLI against the running service: the old test client's full `process` scenario
// (create+delete, create+reset with a ConfigMap, create+cleanup, create+sync after
// removing namespace and Grafana user by hand), checked in every system; the bin itself
// runs as a process with exit codes.
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run, type CliIo } from '@kup/cli';
import { randomSuffix } from '../helpers/names.js';
import { startService, type Service } from './service-harness.js';

function capture(env: NodeJS.ProcessEnv): CliIo & { stdout: string[]; stderr: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return { stdout, stderr, out: (t) => void stdout.push(t), err: (t) => void stderr.push(t), env, interactive: false, confirm: async () => false };
}

describe('CLI against the service', () => {
  let s: Service;

  beforeAll(async () => {
    s = await startService();
  });
  afterAll(async () => {
    await s?.close();
  });

  it('process: the old test client\'s scenario passes end to end', async () => {
    const io = capture(s.cliEnv);
    const code = await run(['process', '--prefix', `t-cli-${randomSuffix(3)}`, '--json'], io);
    const report = JSON.parse(io.stdout.join('\n')) as { checks: { scenario: string; ok: boolean; detail: string }[] };
    expect(report.checks.filter((c) => !c.ok)).toEqual([]);
    expect(report.checks.map((c) => c.scenario)).toHaveLength(4);
    expect(code).toBe(0);
    // Progress was shown while waiting.
    expect(io.stderr.join('\n')).toMatch(/reset reset-t-cli-[0-9a-f]+-b: /);
  }, 600_000);

  it('the bin: schedules as JSON (exit 0), a usage error (exit 2), an unknown job (exit 1)', async () => {
    // Asynchronously: the API answering the bin runs in this very process.
    const bin = (args: string[]) =>
      new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
        const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', 'apps/cli/src/main.ts', ...args], { env: s.cliEnv });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (c) => (stdout += String(c)));
        child.stderr.on('data', (c) => (stderr += String(c)));
        child.on('close', (status) => resolve({ status, stdout, stderr }));
      });
    const schedules = await bin(['schedules', '--json']);
    expect(schedules.status, schedules.stderr).toBe(0);
    const list = JSON.parse(schedules.stdout).schedules as { id: string; pattern: string }[];
    expect(list.map((x) => [x.id, x.pattern]).sort()).toEqual([
      ['cleanup', '0 0 * * *'],
      ['reset', '0 0 1 * *'],
    ]);
    expect((await bin(['reset', '--mode', 'sideways'])).status).toBe(2);
    const unknown = await bin(['status', 'no-such-job']);
    expect(unknown.status).toBe(1);
    expect(unknown.stderr).toMatch(/Job not found/);
  }, 120_000);
});
