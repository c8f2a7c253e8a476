// A pending fleet or cohort run answers only the request it was made for. Its id does not hold
// the whole request (mode, prefix, cleanup's dry run; `reset-cohort-abc` is both the cohort
// "abc"'s reset and the user "cohort-abc"'s; one `cohort-create-<name>` per trainee list), so
// the API against the stack's Redis, with no worker (runs stay pending): another request under
// the same id is a 409 DIFFERENT_RUN_PENDING naming the pending job, enqueues nothing and,
// with `Prefer: wait`, never answers the other run's figures; the same request is answered.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, hex, redisReady, type TestApp } from '../helpers/api-app.js';

describe('API: a pending run answers only the same request', () => {
  let t: TestApp;
  const post = (url: string, payload: object, prefer?: string) => t.inject({ method: 'POST', url, headers: { ...t.auth, ...(prefer ? { prefer } : {}) }, payload });

  beforeAll(async () => {
    t = await buildTestApp({ MAX_WAIT_SECONDS: '5' });
    await redisReady(t);
  });
  afterAll(async () => {
    await t?.close();
  });

  it('POST /reset {cohort: "abc"} while the user "cohort-abc"\'s reset is pending is a 409, also with Prefer: wait; the same request is answered', async () => {
    const user = await post('/reset', { username: 'cohort-abc' });
    expect(user.statusCode, user.body).toBe(202);
    expect(user.json()).toMatchObject({ jobId: 'reset-cohort-abc', alreadyPending: false });
    const pending = await t.deps.queues.fleet.getJob('reset-cohort-abc');
    const before = await t.jobCount();

    for (const prefer of [undefined, 'wait=2']) {
      const cohort = await post('/reset', { cohort: 'abc' }, prefer);
      expect(cohort.statusCode, cohort.body).toBe(409);
      expect(cohort.json()).toEqual({
        message:
          'a different reset run is still pending under the id "reset-cohort-abc" (username: "cohort-abc" pending, none asked; cohort: none pending, "abc" asked): nothing was enqueued; try again when it has ended',
        code: 'DIFFERENT_RUN_PENDING',
        jobId: 'reset-cohort-abc',
      });
    }
    expect(await t.jobCount()).toBe(before);
    const stored = await t.deps.queues.fleet.getJob('reset-cohort-abc');
    expect(stored?.data).toMatchObject({ runId: pending?.data.runId, username: 'cohort-abc' });
    expect(stored?.data).not.toHaveProperty('cohort');

    const again = await post('/reset', { username: 'cohort-abc' });
    expect(again.statusCode, again.body).toBe(202);
    expect(again.json()).toMatchObject({ jobId: 'reset-cohort-abc', alreadyPending: true });
  });

  it('a real cleanup is not answered by a pending dry run, nor a dry run by a pending real cleanup', async () => {
    const dry = await post('/cleanup', { dryRun: true });
    expect(dry.json()).toMatchObject({ jobId: 'cleanup', alreadyPending: false });
    const real = await post('/cleanup', {}, 'wait=2');
    expect(real.statusCode, real.body).toBe(409);
    expect(real.json()).toMatchObject({ code: 'DIFFERENT_RUN_PENDING', jobId: 'cleanup' });
    expect(real.json().message).toContain('dryRun: true pending, false asked');
    expect((await post('/cleanup', { dryRun: true })).json()).toMatchObject({ jobId: 'cleanup', alreadyPending: true });

    await (await t.deps.queues.fleet.getJob('cleanup'))?.remove();
    expect((await post('/cleanup', { maxAgeDays: 365 })).json()).toMatchObject({ jobId: 'cleanup', alreadyPending: false });
    const dryNow = await post('/cleanup', { dryRun: true });
    expect(dryNow.statusCode, dryNow.body).toBe(409);
    expect(dryNow.json().message).toContain('dryRun: false pending, true asked');
    expect((await t.deps.queues.fleet.getJob('cleanup'))?.data).toMatchObject({ dryRun: false });
  });

  it('another mode or usernamePrefix than the pending reset\'s is a 409', async () => {
    expect((await post('/reset', { usernamePrefix: 'lab' })).json()).toMatchObject({ jobId: 'reset', alreadyPending: false });
    const purge = await post('/reset', { usernamePrefix: 'lab', mode: 'purge' });
    expect(purge.statusCode, purge.body).toBe(409);
    expect(purge.json().message).toContain('mode: "recreate" pending, "purge" asked');
    const everyone = await post('/reset', {});
    expect(everyone.statusCode, everyone.body).toBe(409);
    expect(everyone.json().message).toContain('usernamePrefix: "lab" pending, none asked');
    expect((await post('/reset', { usernamePrefix: 'lab', mode: 'recreate' })).json()).toMatchObject({ alreadyPending: true });
  });

  it('POST /cohorts with a corrected trainee list while the first is pending is a 409; the same list is answered', async () => {
    const name = `c-${hex(8)}`;
    const trainees = [{ email: 'ana.silva@school.io' }, { email: 'jean.dupont@school.io' }];
    const first = await post('/cohorts', { name, trainees });
    expect(first.statusCode, first.body).toBe(202);
    expect(first.json()).toMatchObject({ jobId: `cohort-create-${name}`, alreadyPending: false, trainees: 2 });
    const before = await t.jobCount();

    const corrected = await post('/cohorts', { name, trainees: [...trainees, { email: 'emilie.durand@school.io' }] });
    expect(corrected.statusCode, corrected.body).toBe(409);
    expect(corrected.json()).toMatchObject({ code: 'DIFFERENT_RUN_PENDING', jobId: `cohort-create-${name}` });
    expect(corrected.json().message).toContain('trainees: another list pending (2 trainees), 3 asked');
    expect(await t.jobCount()).toBe(before);
    expect((await t.deps.queues.fleet.getJob(`cohort-create-${name}`))?.data.members).toHaveLength(2);

    const same = await post('/cohorts', { name, trainees: [...trainees].reverse() });
    expect(same.json()).toMatchObject({ jobId: `cohort-create-${name}`, alreadyPending: true, trainees: 2 });
  });

  it('PATCH /cohorts/:name with another date while an expiry change is pending is a 409', async () => {
    const name = `c-${hex(8)}`;
    const patch = (expiresAt: string) => t.inject({ method: 'PATCH', url: `/cohorts/${name}`, headers: t.auth, payload: { expiresAt } });
    expect((await patch('2031-01-01T00:00:00Z')).json()).toMatchObject({ jobId: `cohort-expiry-${name}`, alreadyPending: false });
    const other = await patch('2032-01-01T00:00:00Z');
    expect(other.statusCode, other.body).toBe(409);
    expect(other.json()).toMatchObject({ code: 'DIFFERENT_RUN_PENDING', jobId: `cohort-expiry-${name}` });
    expect((await patch('2031-01-01T00:00:00.000Z')).json()).toMatchObject({ alreadyPending: true });
  });
});
