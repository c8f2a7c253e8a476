// Job data edited by hand (Bull Board's "edit data", or anyone with Redis): the state a job
// keeps between attempts is what decides what it removes, so the worker checks it like the
// input and fails the job for good with INVALID_JOB_STATE before doing anything.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JOBS, deleteJobId, defaultJobOptions } from '@kup/core';
import { emailOf, uniqueUsername } from '../helpers/names.js';
import { ensureTraineeClusterRole, findKeycloakUser, getNamespace } from '../helpers/stack.js';
import { testWorker, waitForJob, type TestWorker } from '../helpers/worker.js';

describe('worker: tampered job state', () => {
  let w: TestWorker;
  const username = uniqueUsername('t-tamper');

  beforeAll(async () => {
    await ensureTraineeClusterRole();
    w = await testWorker();
  });
  afterAll(async () => {
    if (w) {
      await w.queue.remove(deleteJobId(username)).catch(() => undefined);
      const cleanup = await w.addDelete({ usernames: [username] });
      await waitForJob(w.queue, cleanup.id as string, 150_000).catch(() => undefined);
      await w.close();
    }
  });

  it('a delete whose stored state does not fit fails with INVALID_JOB_STATE and removes nothing', async () => {
    const created = await w.addCreate({ username, email: emailOf(username) });
    const made = await waitForJob(w.queue, created.id as string, 150_000);
    expect(made.state, made.job.failedReason).toBe('completed');
    const user = await findKeycloakUser(username);
    expect(user).toBeDefined();

    // As if an earlier attempt had recorded it: a target whose id is not an id, removals that are not flags.
    const tampered = await w.queue.add(
      JOBS.delete,
      { usernames: [username], state: { target: { username, userId: { $ne: null } }, removed: { namespace: 'yes' } } },
      { jobId: deleteJobId(username), ...defaultJobOptions(w.config) },
    );
    const { state, job } = await waitForJob(w.queue, tampered.id as string, 60_000);
    expect(state).toBe('failed');
    expect(job.failedReason).toMatch(/^INVALID_JOB_STATE: state\.target\.userId: .*; state\.removed\.namespace: /);
    expect(job.attemptsMade).toBe(1);
    // Nothing was done: the trainee is whole.
    expect((await findKeycloakUser(username))?.id).toBe(user?.id);
    expect(await getNamespace(username)).toBeDefined();
  });
});
