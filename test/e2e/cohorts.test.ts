// Cohorts against the real servers: a class created from CSV in one flow, membership in
// Keycloak and on the namespaces, credentials handed out once, a row that belongs to
// someone else failing alone, and a CSV with bad rows refused whole before anything runs.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emailOf, uniqueUsername } from '../helpers/names.js';
import { oidcLogin } from '../helpers/oidc.js';
import { CoreV1Api } from '@kubernetes/client-node';
import { adminKubeConfig, createKeycloakUser, deleteKeycloakUser, findKeycloakUser, getNamespace } from '../helpers/stack.js';
import { eventually } from '../helpers/poll.js';
import { call, cohortLabelOf, finished, groupMembers, parseCsv, uniqueCohort } from './cohort-helpers.js';
import { startService, type Service } from './service-harness.js';

describe('cohorts: create from CSV, membership, credentials', () => {
  let svc: Service;
  const cohort = uniqueCohort();
  const members = Array.from({ length: 5 }, (_, i) => uniqueUsername(`t-co${i}`));
  const victim = uniqueUsername('t-co-owned');
  let victimId = '';

  beforeAll(async () => {
    svc = await startService();
    // Someone else's account under a username a row will derive.
    victimId = await createKeycloakUser({ username: victim, email: `${victim}@elsewhere.invalid` });
  });

  afterAll(async () => {
    if (svc) {
      const { json } = await call(svc, 'DELETE', `/cohorts/${cohort}`).catch(() => ({ json: undefined }));
      if (json?.jobId) await finished(svc, json.jobId as string).catch(() => undefined);
      await svc.close();
    }
    if (victimId) await deleteKeycloakUser(victimId);
  });

  it('refuses a CSV with bad rows in one 400 listing each, and enqueues nothing', async () => {
    const bad = uniqueCohort();
    const good = uniqueUsername('t-co-ok');
    const csv = [
      'email,full_name',
      `${emailOf(good)},Good Row`,
      ',',
      'not-an-email,Someone',
      `${emailOf(good)},Same Person Again`,
      `${emailOf(uniqueUsername('t-co'))},Too,Many`,
      ',!!!',
    ].join('\n');
    const response = await call(svc, 'POST', `/cohorts?name=${bad}`, csv);
    expect(response.status, response.text).toBe(400);
    expect(response.json).toMatchObject({ code: 'INVALID_ROWS' });
    const rows = response.json.rows as { row: number; reason: string }[];
    expect(rows.map((r) => r.row)).toEqual([2, 3, 4, 5, 6]);
    expect(rows[0]?.reason).toMatch(/missing/);
    expect(rows[1]?.reason).toMatch(/email/i);
    expect(rows[2]?.reason).toMatch(/same username .* as row 1/);
    expect(rows[3]?.reason).toMatch(/3 fields where the header has 2/);
    expect(rows[4]?.reason).toMatch(/empty username/);

    // Nothing reached Redis, Keycloak or the queues.
    const counts = await svc.apiDeps.queues.fleet.getJobCounts();
    expect(Object.values(counts).reduce((a, b) => a + b, 0)).toBe(0);
    expect(await svc.apiDeps.queues['fleet-user'].count()).toBe(0);
    expect(await groupMembers(bad)).toBeUndefined();
    expect(await findKeycloakUser(good)).toBeUndefined();
  });

  it('refuses a bad cohort name and a list over COHORT_MAX_TRAINEES with a reason', async () => {
    const name = await call(svc, 'POST', '/cohorts', { name: 'Not_A_Label', trainees: [{ email: emailOf(uniqueUsername()) }] });
    expect(name.status).toBe(400);
    expect(JSON.stringify(name.json)).toMatch(/DNS-1123/);
    const header = await call(svc, 'POST', `/cohorts?name=${uniqueCohort()}`, 'mail,name\na@b.io,A\n');
    expect(header.status).toBe(400);
    expect(header.json).toMatchObject({ code: 'INVALID_CSV' });
    const quote = await call(svc, 'POST', `/cohorts?name=${uniqueCohort()}`, 'email,full_name\n"open@b.io,A\n');
    expect(quote.status).toBe(400);
    expect(quote.json.message).toMatch(/cannot be read \(CSV_QUOTE_NOT_CLOSED at line \d\)/);
    expect(quote.text).not.toContain('open@b.io');
    const unnamed = await call(svc, 'POST', '/cohorts', 'email,full_name\na@b.io,A\n');
    expect(unnamed.status).toBe(400);
    expect(JSON.stringify(unnamed.json)).toMatch(/name/);
    const tooMany = Array.from({ length: 501 }, (_, i) => ({ full_name: `Trainee ${i}` }));
    const large = await call(svc, 'POST', '/cohorts', { name: uniqueCohort(), trainees: tooMany });
    expect(large.status).toBe(400);
    expect(large.json).toMatchObject({ code: 'COHORT_TOO_LARGE' });
  });

  it('creates a cohort of 5 from CSV as one flow; a row owned by someone else fails alone', async () => {
    const csv = ['email,full_name', ...members.map((m, i) => `${emailOf(m)},Trainee ${i}`), `${emailOf(victim)},Not The Owner`].join('\r\n');
    const accepted = await call(svc, 'POST', `/cohorts?name=${cohort}&expiresAt=2031-01-01T00:00:00Z`, csv);
    expect(accepted.status, accepted.text).toBe(202);
    expect(accepted.json).toMatchObject({ jobId: `cohort-create-${cohort}`, alreadyPending: false, trainees: 6 });

    const view = await finished(svc, accepted.json.jobId as string);
    expect(view.state).toBe('completed');
    expect(view.progress).toMatchObject({ done: 6, total: 6 });
    expect(view.result).toMatchObject({ cohort, total: 6, created: [...members].sort(), alreadyProvisioned: [] });
    expect(view.result?.failures).toEqual([expect.objectContaining({ username: victim, code: 'USERNAME_CONFLICT' })]);

    // Someone else's account is untouched and not made a member.
    const owned = await findKeycloakUser(victim);
    expect(owned?.attributes?.['managed-by']).toBeUndefined();
    expect(owned?.email).toBe(`${victim}@elsewhere.invalid`);

    // Membership lives in Keycloak and on each namespace.
    expect(await groupMembers(cohort)).toEqual([...members].sort());
    for (const member of members) expect(await cohortLabelOf(member)).toBe(cohort);
    expect((await findKeycloakUser(members[0] as string))?.attributes?.['expires-at']).toEqual(['2031-01-01T00:00:00Z']);
  });

  it('hands the credentials out once, as CSV whose passwords log in; then 410', async () => {
    expect((await fetch(`${svc.url}/cohorts/${cohort}/credentials`)).status).toBe(401);
    // Two readers at once (a replayed request): exactly one gets them.
    const both = await Promise.all([call(svc, 'GET', `/cohorts/${cohort}/credentials`), call(svc, 'GET', `/cohorts/${cohort}/credentials`)]);
    expect(both.map((r) => r.status).sort()).toEqual([200, 410]);
    const first = both.find((r) => r.status === 200) as (typeof both)[number];
    expect(first.headers.get('content-type')).toMatch(/^text\/csv/);
    expect(first.headers.get('cache-control')).toBe('no-store');
    const rows = parseCsv(first.text);
    expect(rows.map((r) => r.username).sort()).toEqual([...members].sort());
    const row = rows.find((r) => r.username === members[0]);
    expect(row).toMatchObject({ email: emailOf(members[0] as string), namespace: members[0] });
    await oidcLogin(members[0] as string, row?.password as string);

    const again = await call(svc, 'GET', `/cohorts/${cohort}/credentials`);
    expect(again.status).toBe(410);
    expect(again.json).toMatchObject({ code: 'CREDENTIALS_GONE' });
    expect(again.json.message).toMatch(/already read/);
    // Nor does the child job show it any more.
    const childId = (await svc.apiDeps.queues['fleet-user'].getJobs(['completed'])).find((j) => j.data.username === members[0])?.id;
    const child = await call(svc, 'GET', `/jobs/${childId}`);
    expect(child.json.result).not.toHaveProperty('password');
    // The passwords never reach a log line.
    for (const r of rows) expect(svc.logs.join('\n')).not.toContain(r.password);
  });

  it('sync keeps the cohort label, and puts it back on a namespace it makes again', async () => {
    const member = members[1] as string;
    const synced = await call(svc, 'POST', '/sync', { username: member }, { prefer: 'wait=120' });
    expect(synced.status, synced.text).toBe(200);
    expect(await cohortLabelOf(member)).toBe(cohort);

    const lost = members[2] as string;
    await adminKubeConfig().makeApiClient(CoreV1Api).deleteNamespace({ name: lost });
    await eventually(`namespace ${lost} gone`, async () => ((await getNamespace(lost)) === undefined ? true : undefined), 120_000, 1_000);
    const repaired = await call(svc, 'POST', '/sync', { username: lost }, { prefer: 'wait=120' });
    expect(repaired.status, repaired.text).toBe(200);
    expect(repaired.json.results).toMatchObject({ fixed_users: [expect.objectContaining({ username: lost, fixed_namespace: true })] });
    expect(await cohortLabelOf(lost)).toBe(cohort);
  });
});
