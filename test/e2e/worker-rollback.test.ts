// An upstream that refuses permanently in the middle of a create: the job fails with a
// clear code and removes what it made, never what existed before it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emailOf, uniqueUsername } from '../helpers/names.js';
import { ensureTraineeClusterRole, eventually, findGrafanaUser, findKeycloakUser, getNamespace, grafanaAdmin } from '../helpers/stack.js';
import { testWorker, waitForJob, type TestWorker } from '../helpers/worker.js';

describe('worker: permanent failure mid-create', () => {
  let w: TestWorker;
  const grafanaIds: number[] = [];

  beforeAll(async () => {
    await ensureTraineeClusterRole();
    w = await testWorker();
  });

  afterAll(async () => {
    for (const id of grafanaIds) await grafanaAdmin(`/api/admin/users/${id}`, { method: 'DELETE' }).catch(() => undefined);
    await w?.close();
  });

  it('a Grafana login held by another email → USERNAME_CONFLICT, Keycloak user and namespace removed', async () => {
    const username = uniqueUsername('t-rollback');
    const strangerEmail = emailOf(username, 'elsewhere.invalid');
    const created = await grafanaAdmin('/api/admin/users', {
      method: 'POST',
      json: { login: username, email: strangerEmail, name: 'Somebody Else', password: 'Stranger-Pass-123' },
    });
    expect(created.status).toBe(200);
    const stranger = (await created.json()) as { id: number };
    grafanaIds.push(stranger.id);

    const job = await w.addCreate({ username, email: emailOf(username) });
    const { state, job: done } = await waitForJob(w.queue, job.id as string, 150_000);
    expect(state).toBe('failed');
    expect(done.failedReason).toMatch(/^USERNAME_CONFLICT: /);
    // The failure crosses the queue as data too, which the API reads without parsing the reason.
    expect(done.data.failure).toEqual({ code: 'USERNAME_CONFLICT', message: done.failedReason.slice('USERNAME_CONFLICT: '.length) });
    expect(done.attemptsMade).toBe(1);
    // It got as far as Grafana, so it had made the Keycloak user and the namespace…
    expect(done.data.state).toMatchObject({ initial: 'absent', owned: { keycloak: true, namespace: true } });
    // The job marked Grafana while its create was out, and took the mark back when Grafana refused the login.
    expect(done.data.state.owned.grafana).toBe(false);

    // …and removed both before failing; the stranger's Grafana account is untouched.
    expect(await findKeycloakUser(username)).toBeUndefined();
    expect(await eventually('namespace gone', async () => ((await getNamespace(username)) === undefined ? true : undefined))).toBe(true);
    expect(await findGrafanaUser(username)).toMatchObject({ id: stranger.id, email: strangerEmail });
    // The password opens nothing: it is not handed out.
    expect(await w.passwordOf(done)).toBeUndefined();
    expect(w.logs.join('')).toContain('create rolled back');
  });
});
