// The trainer's CLI against the service: a cohort made from a CSV file with a progress bar
// on a terminal, listed, shown, its credentials written once to a private file, then deleted.
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run, type CliIo } from '@kup/cli';
import { emailOf, uniqueUsername } from '../helpers/names.js';
import { findKeycloakUser } from '../helpers/stack.js';
import { uniqueCohort } from './cohort-helpers.js';
import { startService, type Service } from './service-harness.js';

function terminalIo(env: NodeJS.ProcessEnv) {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const drawn: string[] = [];
  const io: CliIo = {
    out: (t) => void stdout.push(t),
    err: (t) => void stderr.push(t),
    env: { ...env, NO_COLOR: '1' },
    interactive: false,
    confirm: async () => false,
    terminal: { write: (t) => void drawn.push(t), columns: 120 },
  };
  return { io, stdout, stderr, drawn };
}

describe('CLI: provisioner cohort', () => {
  let svc: Service;
  const cohort = uniqueCohort();
  const members = [uniqueUsername('t-cc0'), uniqueUsername('t-cc1'), uniqueUsername('t-cc2')];
  const dir = mkdtempSync(join(tmpdir(), 'kup-cohort-'));

  beforeAll(async () => {
    svc = await startService();
  });
  afterAll(async () => {
    await svc?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('lists every bad row of a CSV and exits 2, making nothing', async () => {
    const file = join(dir, 'bad.csv');
    writeFileSync(file, `email,full_name\n${emailOf(members[0] as string)},A\n,\n`);
    const t = terminalIo(svc.cliEnv);
    expect(await run(['cohort', 'create', '--name', uniqueCohort(), '--csv', file], t.io)).toBe(2);
    expect(t.stderr.join('\n')).toMatch(/row 2 \(line 3\): Email address and full name are missing/);
    expect(await findKeycloakUser(members[0] as string)).toBeUndefined();
  });

  it('says which option the API refused, and why', async () => {
    const file = join(dir, 'one.csv');
    writeFileSync(file, `email,full_name\n${emailOf(members[0] as string)},A\n`);
    const t = terminalIo(svc.cliEnv);
    expect(await run(['cohort', 'create', '--name', 'Not A Name!', '--csv', file], t.io)).toBe(2);
    expect(t.stderr.join('\n')).toMatch(/Invalid request: name: .+/);
  });

  it('creates from CSV with --wait, drawing a progress bar; list, show, credentials once, delete', async () => {
    const file = join(dir, 'people.csv');
    writeFileSync(file, ['email,full_name', ...members.map((m, i) => `${emailOf(m)},Trainee ${i}`)].join('\n'));
    const t = terminalIo(svc.cliEnv);
    const code = await run(['cohort', 'create', '--name', cohort, '--csv', file, '--wait'], t.io);
    expect(code, t.stderr.join('\n')).toBe(0);
    expect(t.drawn.join('')).toMatch(/\[#{24}\] 3\/3/);
    expect(t.stdout.join('\n')).toMatch(/cohort-create cohort-create-.*completed/);

    const list = terminalIo(svc.cliEnv);
    expect(await run(['cohort', 'list'], list.io)).toBe(0);
    expect(list.stdout.join('\n')).toContain(cohort);
    const show = terminalIo(svc.cliEnv);
    expect(await run(['cohort', 'show', cohort], show.io)).toBe(0);
    expect(show.stdout.join('\n')).toMatch(new RegExp(`${members[0]}\\s+provisioned\\s+namespace present`));

    // A file that exists already is refused before the one fetch: the credentials are still there.
    const taken = join(dir, 'taken.csv');
    writeFileSync(taken, 'keep me\n');
    const refused = terminalIo(svc.cliEnv);
    expect(await run(['cohort', 'credentials', cohort, '--out', taken], refused.io)).toBe(2);
    expect(refused.stderr.join('\n')).toMatch(/cannot create .*taken\.csv \(it must not exist yet\)/);
    expect(readFileSync(taken, 'utf8')).toBe('keep me\n');

    const out = join(dir, 'credentials.csv');
    const creds = terminalIo(svc.cliEnv);
    expect(await run(['cohort', 'credentials', cohort, '--out', out], creds.io)).toBe(0);
    expect(statSync(out).mode & 0o777).toBe(0o600);
    expect(readFileSync(out, 'utf8').trim().split('\n')).toHaveLength(4);
    const again = terminalIo(svc.cliEnv);
    expect(await run(['cohort', 'credentials', cohort], again.io)).toBe(1);
    expect(again.stderr.join('\n')).toMatch(/already read/);
    // Refused by the API with --out: the file made for it is removed again, free for a retry.
    const gone = join(dir, 'gone.csv');
    expect(await run(['cohort', 'credentials', cohort, '--out', gone], terminalIo(svc.cliEnv).io)).toBe(1);
    expect(existsSync(gone)).toBe(false);

    const removed = terminalIo(svc.cliEnv);
    expect(await run(['cohort', 'delete', cohort, '--wait', '--json'], removed.io)).toBe(0);
    expect(JSON.parse(removed.stdout.join('\n'))).toMatchObject({ state: 'completed', result: { deleted: [...members].sort(), groupDeleted: true } });
  });
});
