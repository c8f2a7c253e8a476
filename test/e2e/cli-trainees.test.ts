// `provisioner trainees list|show|extend|profile` against the running service: a table on a
// terminal, tab-separated lines elsewhere, --json; every page with --all; extend waits for
// its job with --wait; usage errors exit 2, an unmanaged user exits 1.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run, type CliIo } from '@kup/cli';
import { emailOf, randomSuffix } from '../helpers/names.js';
import { findKeycloakUser } from '../helpers/stack.js';
import { startService, type Service } from './service-harness.js';

function capture(env: NodeJS.ProcessEnv, outIsTerminal = false): CliIo & { stdout: string[]; stderr: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return { stdout, stderr, out: (t) => void stdout.push(t), err: (t) => void stderr.push(t), env, interactive: false, outIsTerminal, confirm: async () => false };
}

describe('CLI: trainees', () => {
  let s: Service;
  const prefix = `tc-${randomSuffix(3)}`;
  const names = [`${prefix}-ann`, `${prefix}-ben`];
  const cli = async (args: string[], terminal = false) => {
    const io = capture(s.cliEnv, terminal);
    const code = await run(args, io);
    return { code, out: io.stdout.join('\n'), err: io.stderr.join('\n') };
  };

  beforeAll(async () => {
    s = await startService();
    for (const name of names) {
      const response = await s.api.inject({ method: 'POST', url: '/provisioner', headers: { authorization: s.token, prefer: 'wait=120' }, payload: { email: emailOf(name), full_name: 'Cli Trainee' } });
      expect(response.statusCode, response.body).toBe(200);
    }
  });
  afterAll(async () => {
    if (!s) return;
    for (const name of names) await s.api.inject({ method: 'DELETE', url: '/provisioner', headers: { authorization: s.token, prefer: 'wait=150' }, payload: { email: emailOf(name) } });
    await s.close();
  });

  it('list: a table on a terminal, tab-separated lines elsewhere, JSON with --json; --all follows the pages', async () => {
    const table = await cli(['trainees', 'list', '--prefix', prefix], true);
    expect(table.code, table.err).toBe(0);
    const [header, ...rows] = table.out.split('\n');
    expect(header).toMatch(/^USERNAME\s+EMAIL\s+NAME\s+CREATED\s+EXPIRES\s+STATE$/);
    expect(rows.map((row) => row.split(/\s{2,}/)[0])).toEqual(names);
    expect(rows[0]).toContain('provisioned');

    const plain = await cli(['trainees', 'list', '--prefix', prefix]);
    expect(plain.out.split('\n').map((line) => line.split('\t').slice(0, 3))).toEqual(names.map((n) => [n, emailOf(n), 'Cli Trainee']));

    const firstPage = await cli(['trainees', 'list', '--prefix', prefix, '--limit', '1', '--json']);
    const page = JSON.parse(firstPage.out) as { items: { username: string }[]; nextCursor: string | null };
    expect(page.items.map((i) => i.username)).toEqual([names[0]]);
    expect(page.nextCursor).toEqual(expect.any(String));
    const every = JSON.parse((await cli(['trainees', 'list', '--prefix', prefix, '--limit', '1', '--all', '--json'])).out) as typeof page;
    expect(every).toEqual({ items: expect.any(Array), nextCursor: null });
    expect(every.items.map((i) => i.username)).toEqual(names);
  });

  it('show: the three systems and the jobs; --json is the API\'s answer', async () => {
    const [ann] = names as [string];
    const shown = await cli(['trainees', 'show', ann]);
    expect(shown.code, shown.err).toBe(0);
    expect(shown.out).toMatch(new RegExp(`^${ann}  Cli Trainee <${emailOf(ann)}>`));
    expect(shown.out).toMatch(/keycloak\s+provisioned, enabled/);
    expect(shown.out).toMatch(/ResourceQuota\s+resource-limits\s+current/);
    expect(shown.out).toMatch(/grafana\s+ok/);
    expect(shown.out).toContain(`create-${ann}`);
    const json = JSON.parse((await cli(['trainees', 'show', ann, '--json'])).out);
    expect(json).toMatchObject({ username: ann, keycloak: { email: emailOf(ann) } });
  });

  it('profile: moves the trainee to another quota profile with --wait; an unknown one exits 2', async () => {
    const [ann] = names as [string];
    const moved = await cli(['trainees', 'profile', ann, 'small', '--wait']);
    expect(moved.code, moved.err).toBe(0);
    expect(moved.out).toBe(`${ann}: profile small (was medium)`);
    expect((await findKeycloakUser(ann))?.attributes).toMatchObject({ 'quota-profile': ['small'] });
    const unknown = await cli(['trainees', 'profile', ann, 'huge']);
    expect(unknown.code).toBe(2);
    expect(unknown.err).toContain('unknown profile "huge": one of large, medium, small');
  });

  it('extend: moves the expiry, waiting with --wait; bad input exits 2, an unmanaged user 1', async () => {
    const [, ben] = names as [string, string];
    const extended = await cli(['trainees', 'extend', ben, '2030-12-24T18:00:00Z', '--wait']);
    expect(extended.code, extended.err).toBe(0);
    expect(extended.out).toMatch(new RegExp(`^${ben}: expires 2030-12-24T18:00:00.000Z \\(was 20`));
    expect((await findKeycloakUser(ben))?.attributes?.['expires-at']).toEqual(['2030-12-24T18:00:00.000Z']);

    expect((await cli(['trainees', 'extend', ben, 'soon'])).code).toBe(2);
    expect((await cli(['trainees', 'extend', ben])).code).toBe(2);
    expect((await cli(['trainees', 'rename', ben])).code).toBe(2);
    const nobody = await cli(['trainees', 'extend', `${prefix}-nobody`, '2030-01-01T00:00:00Z', '--wait']);
    expect(nobody.code).toBe(1);
    expect(nobody.err).toContain('TRAINEE_NOT_FOUND');
    const missing = await cli(['trainees', 'show', `${prefix}-nobody`]);
    expect(missing.code).toBe(1);
    expect(missing.err).toContain(`No managed trainee named "${prefix}-nobody"`);
  });
});
