// A trainee who is gone leaves no expire job waiting: a single delete, a cohort delete and
// cleanup each remove the trainee's delayed `expire-<username>` job (API + worker app on
// the stack); a delete that finds nothing to remove still ends well.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expireJobId } from '@kup/core';
import { emailOf, uniqueUsername } from '../helpers/names.js';
import { call, finished, uniqueCohort } from './cohort-helpers.js';
import { startService, type Service } from './service-harness.js';

describe('expire jobs of trainees who are gone', () => {
  let svc: Service;
  const single = uniqueUsername('t-xjs');
  const cohort = uniqueCohort();
  const members = [uniqueUsername('t-xjc0'), uniqueUsername('t-xjc1')].sort();
  const prefix = uniqueUsername('t-xjl');
  const aged = `${prefix}-a`;

  /** The state of the trainee's expire job, or undefined when there is none. */
  const expireJobState = async (username: string) => (await svc.apiDeps.queues.provisioning.getJob(expireJobId(username)))?.getState();
  const create = async (username: string) => {
    const made = await call(svc, 'POST', '/provisioner', { email: emailOf(username) }, { prefer: 'wait=120' });
    expect(made.status, made.text).toBe(200);
    expect(await expireJobState(username)).toBe('delayed');
  };

  beforeAll(async () => {
    svc = await startService();
  });

  afterAll(async () => {
    if (!svc) return;
    for (const username of [single, aged]) await call(svc, 'DELETE', '/provisioner', { email: emailOf(username) }, { prefer: 'wait=120' }).catch(() => undefined);
    const removed = await call(svc, 'DELETE', `/cohorts/${cohort}`).catch(() => undefined);
    if (removed?.status === 202) await finished(svc, removed.json.jobId as string).catch(() => undefined);
    await svc.close();
  });

  it('a delete removes the trainee\'s expire job; deleting again, with none left, still succeeds', async () => {
    await create(single);
    const removed = await call(svc, 'DELETE', '/provisioner', { email: emailOf(single) }, { prefer: 'wait=120' });
    expect(removed.status, removed.text).toBe(200);
    expect(await expireJobState(single)).toBeUndefined();

    const again = await call(svc, 'DELETE', '/provisioner', { email: emailOf(single) });
    expect(again.status, again.text).toBe(202);
    const view = await finished(svc, again.json.jobId as string);
    expect(view.state, JSON.stringify(view)).toBe('completed');
    expect(await expireJobState(single)).toBeUndefined();
  });

  it('a cohort delete removes each member\'s expire job', async () => {
    const made = await call(svc, 'POST', '/cohorts', { name: cohort, trainees: members.map((m) => ({ email: emailOf(m) })) });
    expect(made.status, made.text).toBe(202);
    expect((await finished(svc, made.json.jobId as string)).result).toMatchObject({ created: members });
    for (const member of members) expect(await expireJobState(member)).toBe('delayed');

    const removed = await call(svc, 'DELETE', `/cohorts/${cohort}`);
    expect(removed.status, removed.text).toBe(202);
    expect((await finished(svc, removed.json.jobId as string)).result).toMatchObject({ deleted: members, failures: [] });
    for (const member of members) expect(await expireJobState(member)).toBeUndefined();
  });

  it('cleanup removes the expire job of a trainee it deleted, and a dry run keeps it', async () => {
    await create(aged);
    const cleanup = (dryRun: boolean) => call(svc, 'POST', '/cleanup', { maxAgeDays: 0, usernamePrefix: prefix, confirmMassDelete: true, dryRun });

    const dry = await cleanup(true);
    expect(dry.status, dry.text).toBe(202);
    expect((await finished(svc, dry.json.jobId as string)).result).toMatchObject({ dry_run: true, deleted_users: [{ username: aged }] });
    expect(await expireJobState(aged)).toBe('delayed');

    const run = await cleanup(false);
    expect(run.status, run.text).toBe(202);
    expect((await finished(svc, run.json.jobId as string)).result).toMatchObject({ successfully_deleted: 1, deleted_users: [{ username: aged }] });
    expect(await expireJobState(aged)).toBeUndefined();
  });
});
