// A cohort's week against the real servers: listed and shown from Keycloak and the
// namespaces, expiry moved for every member, a reset scoped to the cohort that leaves a
// non-member's namespace alone, and a delete that removes every member and the group.
import { CoreV1Api } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emailOf, uniqueUsername } from '../helpers/names.js';
import { adminKubeConfig, findKeycloakUser, getNamespace } from '../helpers/stack.js';
import { eventually } from '../helpers/poll.js';
import { call, finished, groupMembers, uniqueCohort } from './cohort-helpers.js';
import { startService, type Service } from './service-harness.js';

describe('cohorts: list, show, expiry, scoped reset, delete', () => {
  let svc: Service;
  const cohort = uniqueCohort();
  const members = [uniqueUsername('t-cl0'), uniqueUsername('t-cl1')];
  const outsider = uniqueUsername('t-cl-out');
  const core = () => adminKubeConfig().makeApiClient(CoreV1Api);
  const configMap = (namespace: string) => core().createNamespacedConfigMap({ namespace, body: { metadata: { name: 'trainee-work' }, data: { a: 'b' } } });
  const hasConfigMap = async (namespace: string) => (await core().listNamespacedConfigMap({ namespace })).items.some((c) => c.metadata?.name === 'trainee-work');

  beforeAll(async () => {
    svc = await startService();
    const made = await call(svc, 'POST', '/cohorts', { name: cohort, trainees: members.map((m) => ({ email: emailOf(m) })) });
    expect(made.status, made.text).toBe(202);
    expect((await finished(svc, made.json.jobId as string)).result).toMatchObject({ created: [...members].sort() });
    const single = await call(svc, 'POST', '/provisioner', { email: emailOf(outsider) }, { prefer: 'wait=120' });
    expect(single.status, single.text).toBe(200);
  });

  afterAll(async () => {
    if (!svc) return;
    await call(svc, 'DELETE', '/provisioner', { email: emailOf(outsider) }, { prefer: 'wait=120' }).catch(() => undefined);
    await svc.close();
  });

  it('lists the cohort and shows its members with their state', async () => {
    const list = await call(svc, 'GET', '/cohorts?limit=100');
    expect(list.status, list.text).toBe(200);
    expect((list.json.items as { name: string }[]).map((i) => i.name)).toContain(cohort);
    const shown = await call(svc, 'GET', `/cohorts/${cohort}`);
    expect(shown.status, shown.text).toBe(200);
    const rows = shown.json.members as { username: string; provisioned: boolean; namespace: string; labelled: boolean }[];
    expect(rows.map((r) => r.username)).toEqual([...members].sort());
    expect(rows.every((r) => r.provisioned && r.namespace === 'present' && r.labelled)).toBe(true);
    const missing = await call(svc, 'GET', `/cohorts/${uniqueCohort()}`);
    expect(missing.status).toBe(404);
    expect(missing.json).toMatchObject({ code: 'COHORT_NOT_FOUND' });
  });

  it('moves every member\'s expiry and no one else\'s', async () => {
    const before = (await findKeycloakUser(outsider))?.attributes?.['expires-at'];
    const patched = await call(svc, 'PATCH', `/cohorts/${cohort}`, { expiresAt: '2032-02-02T00:00:00Z' });
    expect(patched.status, patched.text).toBe(202);
    const view = await finished(svc, patched.json.jobId as string);
    expect(view.result, JSON.stringify(view)).toMatchObject({ changed: [...members].sort(), failures: [] });
    for (const member of members) {
      const expires = (await findKeycloakUser(member))?.attributes?.['expires-at']?.[0];
      expect(Date.parse(expires ?? '')).toBe(Date.parse('2032-02-02T00:00:00Z'));
    }
    expect((await findKeycloakUser(outsider))?.attributes?.['expires-at']).toEqual(before);
  });

  it('resets only the cohort\'s namespaces', async () => {
    for (const namespace of [...members, outsider]) await configMap(namespace);
    const reset = await call(svc, 'POST', '/reset', { cohort, mode: 'purge' }, { prefer: 'wait=120' });
    expect(reset.status, reset.text).toBe(200);
    expect(reset.json).toMatchObject({ jobId: `reset-cohort-${cohort}`, users_processed: 2, namespaces_reset: 2 });
    for (const member of members) expect(await hasConfigMap(member)).toBe(false);
    expect(await hasConfigMap(outsider)).toBe(true);
    const unknown = await call(svc, 'POST', '/reset', { cohort: uniqueCohort() }, { prefer: 'wait=60' });
    expect(unknown.status).toBe(404);
  });

  it('deletes every member and the group, and leaves a non-member alone', async () => {
    const removed = await call(svc, 'DELETE', `/cohorts/${cohort}`);
    expect(removed.status, removed.text).toBe(202);
    const view = await finished(svc, removed.json.jobId as string);
    expect(view.result).toMatchObject({ deleted: [...members].sort(), failures: [], groupDeleted: true });
    for (const member of members) {
      expect(await findKeycloakUser(member)).toBeUndefined();
      await eventually(`namespace ${member} gone`, async () => ((await getNamespace(member)) === undefined ? true : undefined), 120_000, 1_000);
    }
    expect(await groupMembers(cohort)).toBeUndefined();
    expect(await findKeycloakUser(outsider)).toBeDefined();
    expect(await getNamespace(outsider)).toBeDefined();
  });
});
