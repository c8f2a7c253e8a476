// A create and a delete of the same trainee, enqueued together, never run at the same
// time (per-username lock; the one that waits is delayed, not failed), and leave the
// trainee either complete or gone — never half-made.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emailOf, uniqueUsername } from '../helpers/names.js';
import { ensureTraineeClusterRole, findGrafanaUser, findKeycloakUser, getNamespace } from '../helpers/stack.js';
import { testWorker, waitForJob, type TestWorker } from '../helpers/worker.js';

describe('worker: one operation per trainee at a time', () => {
  let w: TestWorker;
  const username = uniqueUsername('t-lock');

  beforeAll(async () => {
    await ensureTraineeClusterRole();
    w = await testWorker({ overrides: { WORKER_CONCURRENCY: '4' } });
  });

  afterAll(async () => {
    const cleanup = await w.queue.add('delete', { usernames: [username] }, { jobId: `delete-${username}-cleanup` });
    await waitForJob(w.queue, cleanup.id as string, 150_000).catch(() => undefined);
    await w?.close();
  });

  it('runs a create and a delete of the same user one after the other', async () => {
    const [create, remove] = await Promise.all([w.addCreate({ username, email: emailOf(username) }), w.addDelete({ usernames: [username] })]);
    const [created, deleted] = await Promise.all([waitForJob(w.queue, create.id as string, 150_000), waitForJob(w.queue, remove.id as string, 150_000)]);
    expect(created.state, created.job.failedReason).toBe('completed');
    expect(deleted.state, deleted.job.failedReason).toBe('completed');

    // The final runs of the two jobs do not overlap.
    const spans = [created.job, deleted.job].map((job) => [job.processedOn as number, job.finishedOn as number] as const).sort((a, b) => a[0] - b[0]);
    expect(spans[0]![1]).toBeLessThanOrEqual(spans[1]![0]);
    // One of them found the user locked and was delayed, spending no attempt on it.
    expect(w.logs.join('')).toContain('user busy with another job');
    expect(created.job.attemptsMade + deleted.job.attemptsMade).toBe(2);

    // Consistent either way: complete (delete went first) or gone (create went first).
    const user = await findKeycloakUser(username);
    const namespace = await getNamespace(username);
    const grafanaUser = await findGrafanaUser(username);
    if (user) {
      expect(user.attributes?.provisioned).toEqual(['true']);
      expect(namespace).toBeDefined();
      expect(grafanaUser).toBeDefined();
    } else {
      expect(namespace).toBeUndefined();
      expect(grafanaUser).toBeUndefined();
    }
  });
});
