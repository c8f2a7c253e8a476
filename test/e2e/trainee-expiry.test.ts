// Expiry on time, against the stack: a trainee whose expiry passes is removed from the three
// systems by its expire job (not by the daily cleanup); a trainee extended before that is
// kept, even when its old job fires anyway; sync re-creates a missing expire job.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expireJobId } from '@kup/core';
import { emailOf, uniqueUsername } from '../helpers/names.js';
import { eventually, findGrafanaUser, findKeycloakUser, getNamespace } from '../helpers/stack.js';
import { startService, type Service } from './service-harness.js';

describe('expiry on time', () => {
  let s: Service;
  const left: string[] = [];
  const call = (method: 'GET' | 'PATCH' | 'POST' | 'DELETE', url: string, payload?: object, headers: Record<string, string> = {}) =>
    s.api.inject({ method, url, headers: { authorization: s.token, ...headers }, ...(payload ? { payload } : {}) });
  const create = async (username: string, expiresInMs: number) => {
    left.push(username);
    const expiresAt = new Date(Date.now() + expiresInMs).toISOString();
    const response = await call('POST', '/provisioner', { email: emailOf(username), expiresAt }, { prefer: 'wait=120' });
    expect(response.statusCode, response.body).toBe(200);
    return expiresAt;
  };
  const expireJob = (username: string) => s.apiDeps.queues.provisioning.getJob(expireJobId(username));
  const presentIn = async (username: string) => ({
    keycloak: (await findKeycloakUser(username)) !== undefined,
    namespace: (await getNamespace(username)) !== undefined,
    grafana: (await findGrafanaUser(username)) !== undefined,
  });

  beforeAll(async () => {
    s = await startService();
  });

  afterAll(async () => {
    if (!s) return;
    await Promise.all(left.map((name) => call('DELETE', '/provisioner', { email: emailOf(name) }, { prefer: 'wait=150' })));
    await s.close();
  });

  it('removes a trainee from Keycloak, Kubernetes and Grafana once its expiry passes', async () => {
    const username = uniqueUsername('t-exp');
    const expiresAt = await create(username, 8_000);
    expect(await expireJob(username).then((job) => job?.data)).toMatchObject({ username, dueAt: expiresAt });

    await eventually(
      'trainee gone from the three systems',
      async () => {
        const present = await presentIn(username);
        return !present.keycloak && !present.namespace && !present.grafana ? present : undefined;
      },
      120_000,
      1_000,
    );
    const job = await expireJob(username);
    expect(await job?.getState()).toBe('completed');
    expect(job?.returnvalue).toMatchObject({ username, deleted: true, expiresAt });
    expect(Date.parse(new Date(job?.finishedOn ?? 0).toISOString())).toBeGreaterThanOrEqual(Date.parse(expiresAt));
  });

  it('keeps a trainee extended before its expiry, even when the old job fires', async () => {
    const username = uniqueUsername('t-ext');
    await create(username, 45_000);
    const extended = new Date(Date.now() + 3_600_000).toISOString();
    const patched = await call('PATCH', `/trainees/${username}`, { expiresAt: extended }, { prefer: 'wait=60' });
    expect(patched.statusCode, patched.body).toBe(200);

    // PATCH moved the job.
    const job = await expireJob(username);
    expect(await job?.getState()).toBe('delayed');
    expect(job?.data).toMatchObject({ dueAt: extended });

    // A stale job running now (as if it had not been moved) reads Keycloak and waits again.
    const firedAt = Date.now();
    await job?.promote();
    const rescheduled = await eventually(
      'expire job ran and waits again',
      async () => {
        const current = await expireJob(username);
        const state = await current?.getState();
        return state === 'delayed' && (current?.processedOn ?? 0) >= firedAt ? current : undefined;
      },
      60_000,
    );
    expect(rescheduled.data).toMatchObject({ dueAt: extended });
    expect(await presentIn(username)).toEqual({ keycloak: true, namespace: true, grafana: true });
  });

  it('sync re-creates a missing expire job', async () => {
    const username = uniqueUsername('t-syn');
    const expiresAt = await create(username, 3_600_000);
    await (await expireJob(username))?.remove();
    expect(await expireJob(username)).toBeUndefined();

    const synced = await call('POST', '/sync', { username }, { prefer: 'wait=90' });
    expect(synced.statusCode, synced.body).toBe(200);
    const back = await eventually(
      'expire job back and waiting for the expiry',
      async () => {
        const job = await expireJob(username);
        return (await job?.getState()) === 'delayed' && job?.data.dueAt === expiresAt ? job : undefined;
      },
      30_000,
    );
    expect(back.data).toMatchObject({ username, dueAt: expiresAt });
  });
});
