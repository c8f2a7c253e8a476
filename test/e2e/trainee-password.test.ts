// A trainer replaces a trainee's lost password (`POST /trainees/:username/password`, CLI
// `trainees reset-password`) against the stack: the old password no longer opens Keycloak
// (OIDC password grant) nor Grafana, the new one opens both; it is handed out by the job
// (GET /jobs/:id, the waited-for answer) and by nothing else (job data, result, logs); a
// retry of the job sets the same one; an unknown trainee is a 404, a half-made one a 409.
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run, type CliIo } from '@kup/cli';
import { resetPasswordJobId } from '@kup/core';
import { emailOf, randomSuffix } from '../helpers/names.js';
import { grafanaLoginStatus, oidcLogin } from '../helpers/oidc.js';
import { eventually } from '../helpers/poll.js';
import { createKeycloakUser, deleteKeycloakUser } from '../helpers/stack.js';
import { startService, type Service } from './service-harness.js';

describe('trainee password reset', () => {
  let s: Service;
  const ann = `pw-${randomSuffix(3)}-ann`;
  const halfMade = `pw-${randomSuffix(3)}-half`;
  let halfMadeId: string | undefined;
  let firstPassword = '';
  const call = (method: 'GET' | 'POST', url: string, headers: Record<string, string> = {}, payload?: object) =>
    s.api.inject({ method, url, headers: { authorization: s.token, ...headers }, ...(payload ? { payload } : {}) });

  /** Whether the password opens Keycloak (password grant) and Grafana (basic auth). */
  const opens = async (password: string) => ({
    keycloak: await oidcLogin(ann, password).then(() => true, () => false),
    grafana: (await grafanaLoginStatus(ann, password)) === 200,
  });

  /** What Bull Board and the logs show: the job's data and result, every log line. */
  const visible = async () => {
    const job = await s.apiDeps.queues.provisioning.getJob(resetPasswordJobId(ann));
    return JSON.stringify([job?.data, job?.returnvalue, job?.failedReason]) + s.logs.join('\n');
  };

  beforeAll(async () => {
    s = await startService();
    const created = await call('POST', '/provisioner', { prefer: 'wait=120' }, { email: emailOf(ann), full_name: 'Ann Lost' });
    expect(created.statusCode, created.body).toBe(200);
    firstPassword = created.json().password;
    // A user the provisioner manages but never finished (no `provisioned`).
    halfMadeId = await createKeycloakUser({ username: halfMade, email: emailOf(halfMade), attributes: { 'managed-by': ['k8s-provisioner'] } });
  });

  afterAll(async () => {
    if (!s) return;
    await s.api.inject({ method: 'DELETE', url: '/provisioner', headers: { authorization: s.token, prefer: 'wait=150' }, payload: { email: emailOf(ann) } });
    if (halfMadeId) await deleteKeycloakUser(halfMadeId);
    await s.close();
  });

  let newPassword = '';

  it('replaces the password in Keycloak and Grafana: the old one opens neither, the new one both', async () => {
    expect(await opens(firstPassword)).toEqual({ keycloak: true, grafana: true });

    const reset = await call('POST', `/trainees/${ann}/password`, { prefer: 'wait=60' });
    expect(reset.statusCode, reset.body).toBe(200);
    expect(reset.headers['cache-control']).toBe('no-store');
    const body = reset.json();
    expect(body).toMatchObject({ username: ann, reset: { keycloak: true, grafana: true }, passwordIssued: true, jobId: resetPasswordJobId(ann) });
    newPassword = body.password;
    expect(newPassword).toMatch(/^.{20}$/);
    expect(newPassword).not.toBe(firstPassword);

    expect(await opens(firstPassword)).toEqual({ keycloak: false, grafana: false });
    expect(await opens(newPassword)).toEqual({ keycloak: true, grafana: true });
  });

  it('hands the password out through GET /jobs/:id only: never in job data, result or a log line', async () => {
    const view = await call('GET', `/jobs/${resetPasswordJobId(ann)}`);
    expect(view.statusCode).toBe(200);
    expect(view.json()).toMatchObject({ type: 'reset-password', state: 'completed', result: { passwordIssued: true, password: newPassword, reset: { keycloak: true, grafana: true } } });
    expect(await visible()).not.toContain(newPassword);
    // The trainee's view lists the job, without its result.
    const shown = await call('GET', `/trainees/${ann}`);
    expect(shown.json().jobs.map((j: { id: string }) => j.id)).toContain(resetPasswordJobId(ann));
    expect(shown.body).not.toContain(newPassword);
  });

  it('a retry of the job sets the same password again', async () => {
    const job = await s.apiDeps.queues.provisioning.getJob(resetPasswordJobId(ann));
    const finishedOn = job?.finishedOn;
    await job?.retry('completed');
    await eventually('the retried job to complete again', async () => {
      const again = await s.apiDeps.queues.provisioning.getJob(resetPasswordJobId(ann));
      return again?.finishedOn && again.finishedOn !== finishedOn && (await again.getState()) === 'completed' ? again : undefined;
    }, 60_000);
    const view = (await call('GET', `/jobs/${resetPasswordJobId(ann)}`)).json();
    expect(view.result.password).toBe(newPassword);
    expect(await opens(newPassword)).toEqual({ keycloak: true, grafana: true });
    expect(await visible()).not.toContain(newPassword);
  });

  it('an unknown trainee is a 404; a half-made one fails telling to run sync first; a body with fields is a 400', async () => {
    const unknown = await call('POST', `/trainees/pw-nobody-${randomSuffix(3)}/password`, { prefer: 'wait=30' });
    expect(unknown.statusCode, unknown.body).toBe(404);
    expect(unknown.json()).toMatchObject({ code: 'TRAINEE_NOT_FOUND' });

    const half = await call('POST', `/trainees/${halfMade}/password`, { prefer: 'wait=30' });
    expect(half.statusCode, half.body).toBe(409);
    expect(half.json()).toMatchObject({ code: 'TRAINEE_NOT_PROVISIONED', message: expect.stringContaining('POST /sync') });

    const chosen = await call('POST', `/trainees/${ann}/password`, { prefer: 'wait=5' }, { password: 'Chosen-By-Caller-1' });
    expect(chosen.statusCode).toBe(400);
    expect((await s.api.inject({ method: 'POST', url: `/trainees/${ann}/password` })).statusCode).toBe(401);
  });

  it('CLI: reset-password --out writes the new password to a new 0600 file; an existing file is refused before any request', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pw-'));
    const cli = async (args: string[]) => {
      const stdout: string[] = [];
      const stderr: string[] = [];
      const io: CliIo = { out: (t) => void stdout.push(t), err: (t) => void stderr.push(t), env: s.cliEnv, interactive: false, confirm: async () => false };
      return { code: await run(args, io), out: stdout.join('\n'), err: stderr.join('\n') };
    };

    const taken = join(dir, 'taken.txt');
    writeFileSync(taken, 'keep me\n');
    const before = (await s.apiDeps.queues.provisioning.getJob(resetPasswordJobId(ann)))?.timestamp;
    const refused = await cli(['trainees', 'reset-password', ann, '--out', taken]);
    expect(refused.code, refused.err).toBe(2);
    expect(readFileSync(taken, 'utf8')).toBe('keep me\n');
    // No request was sent: the job is still the one before.
    expect((await s.apiDeps.queues.provisioning.getJob(resetPasswordJobId(ann)))?.timestamp).toBe(before);

    const file = join(dir, 'ann.txt');
    const written = await cli(['trainees', 'reset-password', ann, '--out', file]);
    expect(written.code, written.err).toBe(0);
    expect(written.out).toBe('');
    expect(written.err).toMatch(/Keycloak and Grafana/);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const fromFile = readFileSync(file, 'utf8').trim();
    expect(fromFile).not.toBe(newPassword);
    expect(await opens(fromFile)).toEqual({ keycloak: true, grafana: true });
    expect(await opens(newPassword)).toEqual({ keycloak: false, grafana: false });

    // Without --out: the password alone on stdout.
    const printed = await cli(['trainees', 'reset-password', ann]);
    expect(printed.code, printed.err).toBe(0);
    expect(await opens(printed.out)).toEqual({ keycloak: true, grafana: true });
    expect(s.logs.join('\n')).not.toContain(printed.out);

    const nobody = await cli(['trainees', 'reset-password', `pw-nobody-${randomSuffix(3)}`, '--out', join(dir, 'nobody.txt')]);
    expect(nobody.code).toBe(1);
    expect(nobody.err).toMatch(/No managed trainee/);
    expect(() => statSync(join(dir, 'nobody.txt'))).toThrow();
  });
});
