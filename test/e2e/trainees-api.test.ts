// The trainee API against the stack, API and worker in this process: list with filters and
// an opaque cursor, one trainee's live state with drift from the plan, and a change of expiry.
import { CoreV1Api } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expireJobId } from '@kup/core';
import { emailOf, randomSuffix } from '../helpers/names.js';
import { adminKubeConfig, findKeycloakUser, getNamespace } from '../helpers/stack.js';
import { startService, type Service } from './service-harness.js';

describe('trainee API', () => {
  let s: Service;
  // Usernames of this run share a prefix no other run has, so the list holds only ours.
  const prefix = `tl-${randomSuffix(3)}`;
  const [ada, bob, cyd] = ['ada', 'bob', 'cyd'].map((name) => `${prefix}-${name}`) as [string, string, string];
  const call = (method: 'GET' | 'PATCH' | 'POST' | 'DELETE', url: string, payload?: object, headers: Record<string, string> = {}) =>
    s.api.inject({ method, url, headers: { authorization: s.token, ...headers }, ...(payload ? { payload } : {}) });

  beforeAll(async () => {
    s = await startService();
    const bodies = [
      { email: emailOf(ada), full_name: 'Ada Lovelace', expiresAt: '2031-01-01T00:00:00Z' },
      { email: emailOf(bob), expiresAt: '2029-06-01T00:00:00Z' },
      { email: emailOf(cyd) },
    ];
    const created = await Promise.all(bodies.map((body) => call('POST', '/provisioner', body, { prefer: 'wait=120' })));
    for (const response of created) expect(response.statusCode, response.body).toBe(200);
  });

  afterAll(async () => {
    if (!s) return;
    await Promise.all([ada, bob, cyd].map((name) => call('DELETE', '/provisioner', { email: emailOf(name) }, { prefer: 'wait=150' })));
    await s.close();
  });

  it('lists the trainees with their fields, filtered', async () => {
    const all = await call('GET', `/trainees?prefix=${prefix}`);
    expect(all.statusCode, all.body).toBe(200);
    expect(all.json().nextCursor).toBeNull();
    const items = all.json().items as Array<Record<string, unknown>>;
    expect(items.map((i) => i.username)).toEqual([ada, bob, cyd]);
    expect(items[0]).toMatchObject({ username: ada, email: emailOf(ada), fullName: 'Ada Lovelace', expires: '2031-01-01T00:00:00Z', provisioned: true });
    expect(Date.parse(items[0]?.created as string)).toBeGreaterThan(Date.now() - 3_600_000);

    // cyd has the default expiry (DEFAULT_EXPIRY_DAYS, a year from now).
    const names = (response: { json(): { items: Array<{ username: string }> } }) => response.json().items.map((i) => i.username);
    expect(names(await call('GET', `/trainees?prefix=${prefix}&expiresBefore=2030-01-01T00:00:00Z`))).toEqual([bob, cyd]);
    const nextYear = new Date(Date.now() + 400 * 86_400_000).toISOString();
    expect(names(await call('GET', `/trainees?prefix=${prefix}&expiresBefore=${nextYear}`))).toEqual([cyd]);
    const incomplete = await call('GET', `/trainees?prefix=${prefix}&state=incomplete`);
    expect(incomplete.json().items).toEqual([]);
    const before = await call('GET', `/trainees?prefix=${prefix}&createdBefore=2020-01-01T00:00:00Z`);
    expect(before.json().items).toEqual([]);
  });

  it('pages with an opaque cursor that refuses tampering and other filters', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    for (let page = 0; page < 5; page++) {
      const response = await call('GET', `/trainees?prefix=${prefix}&limit=1${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      expect(response.statusCode, response.body).toBe(200);
      seen.push(...response.json().items.map((i: { username: string }) => i.username));
      cursor = response.json().nextCursor;
      if (!cursor) break;
    }
    expect(seen).toEqual([ada, bob, cyd]);

    const first = (await call('GET', `/trainees?prefix=${prefix}&limit=1`)).json().nextCursor as string;
    const [body, signature] = first.split('.') as [string, string];
    const forged = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(body, 'base64url').toString()), o: 0 })).toString('base64url');
    for (const bad of [`${forged}.${signature}`, `${body}.${signature.slice(0, -2)}`, 'garbage', `${first}.x`]) {
      const response = await call('GET', `/trainees?prefix=${prefix}&limit=1&cursor=${encodeURIComponent(bad)}`);
      expect(response.statusCode, bad).toBe(400);
      expect(response.json()).toMatchObject({ code: 'INVALID_CURSOR' });
    }
    const otherFilters = await call('GET', `/trainees?prefix=${prefix}-a&limit=1&cursor=${encodeURIComponent(first)}`);
    expect(otherFilters.statusCode).toBe(400);
  });

  it('refuses bad filters with the field named (400)', async () => {
    for (const query of ['limit=0', 'limit=201', 'state=done', 'expiresBefore=tomorrow', 'prefix=Bad_Prefix', 'surprise=1']) {
      const response = await call('GET', `/trainees?${query}`);
      expect(response.statusCode, query).toBe(400);
    }
    expect((await call('GET', '/trainees/Not_A_Name')).statusCode).toBe(400);
    expect((await s.api.inject({ method: 'GET', url: '/trainees' })).statusCode).toBe(401);
  });

  it('shows one trainee live in the three systems, with drift from the plan and the last jobs', async () => {
    const fresh = await call('GET', `/trainees/${ada}`);
    expect(fresh.statusCode, fresh.body).toBe(200);
    const view = fresh.json();
    const user = await findKeycloakUser(ada);
    expect(view.keycloak).toMatchObject({ id: user?.id, email: emailOf(ada), fullName: 'Ada Lovelace', enabled: true });
    expect(view.keycloak.attributes).toMatchObject({ managedBy: 'k8s-provisioner', provisioned: true, expiresAt: '2031-01-01T00:00:00Z' });
    expect(view.grafana).toMatchObject({ state: 'ok', account: { login: ada, email: emailOf(ada) } });
    expect(view.grafana.account.id).toBe(view.keycloak.attributes.grafanaUserId);
    expect(view.namespace).toMatchObject({ name: ada, phase: 'Active', drift: [] });
    expect(view.namespace.fittings.map((f: { state: string }) => f.state)).toEqual(view.namespace.fittings.map(() => 'current'));
    expect(view.namespace.fittings.map((f: { kind: string }) => f.kind)).toEqual(expect.arrayContaining(['RoleBinding', 'ResourceQuota', 'LimitRange']));
    const jobs = view.jobs as Array<{ id: string; state: string; dueAt: string | null }>;
    expect(jobs.find((j) => j.id === `create-${ada}`)).toMatchObject({ state: 'completed' });
    expect(jobs.find((j) => j.id === expireJobId(ada))).toMatchObject({ state: 'delayed', dueAt: '2031-01-01T00:00:00.000Z' });
    expect(JSON.stringify(view)).not.toMatch(/password/i);

    // Someone edits the quota and removes the LimitRange by hand: the view says so.
    const core = adminKubeConfig().makeApiClient(CoreV1Api);
    await core.patchNamespacedResourceQuota({ name: 'resource-limits', namespace: ada, body: [{ op: 'replace', path: '/spec/hard/pods', value: '99' }] });
    await core.deleteNamespacedLimitRange({ name: 'default-limits', namespace: ada });
    const drifted = (await call('GET', `/trainees/${ada}`)).json();
    const fitting = (kind: string) => drifted.namespace.fittings.find((f: { kind: string }) => f.kind === kind);
    expect(fitting('ResourceQuota')).toMatchObject({ state: 'drifted', drift: ['spec.hard.pods'] });
    expect(fitting('LimitRange')).toMatchObject({ state: 'missing' });
    expect(fitting('RoleBinding')).toMatchObject({ state: 'current' });
  });

  it('moves an expiry as a job: Keycloak, the namespace annotation and the expiry job', async () => {
    const later = '2032-02-29T12:00:00.000Z';
    const moved = await call('PATCH', `/trainees/${bob}`, { expiresAt: '2032-02-29T13:00:00+01:00' }, { prefer: 'wait=60' });
    expect(moved.statusCode, moved.body).toBe(200);
    expect(moved.json()).toMatchObject({ username: bob, expiresAt: later, previous: '2029-06-01T00:00:00Z', namespaceUpdated: true });
    expect((await findKeycloakUser(bob))?.attributes?.['expires-at']).toEqual([later]);
    const namespace = await getNamespace(bob);
    expect(namespace?.metadata?.annotations?.['k8s-user-provisioner/expires-at']).toBe(later);
    // The rest of the namespace is as the plan has it (server-side apply kept every field).
    expect(namespace?.metadata?.labels).toMatchObject({ 'managed-by': 'k8s-provisioner', provisioned: 'true' });
    expect(namespace?.metadata?.annotations?.['k8s-user-provisioner/email']).toBe(emailOf(bob));
    const job = await s.apiDeps.queues.provisioning.getJob(expireJobId(bob));
    expect(await job?.getState()).toBe('delayed');
    const shown = (await call('GET', `/trainees/${bob}`)).json();
    expect(shown.jobs.find((j: { id: string }) => j.id === expireJobId(bob))?.dueAt).toBe(later);
    expect(shown.namespace.drift).toEqual([]);

    // Without Prefer: 202 and a job to follow.
    const queued = await call('PATCH', `/trainees/${bob}`, { expiresAt: '2033-01-01T00:00:00Z' });
    expect(queued.statusCode).toBe(202);
    expect(queued.json()).toMatchObject({ jobId: `set-expiry-${bob}`, username: bob });
  });

  it('refuses a bad expiry (400) and changes nothing', async () => {
    for (const payload of [{ expiresAt: 'next week' }, {}, { expiresAt: '2030-01-01T00:00:00Z', role: 'admin' }]) {
      const response = await call('PATCH', `/trainees/${cyd}`, payload, { prefer: 'wait=5' });
      expect(response.statusCode, JSON.stringify(payload)).toBe(400);
    }
    expect(await s.apiDeps.queues.provisioning.getJob(`set-expiry-${cyd}`)).toBeUndefined();
  });
});
