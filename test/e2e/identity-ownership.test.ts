// Names and identities through the real API and worker against the stack, attacked the way
// a second caller or a hostile username would: reserved and foreign namespaces are refused
// before any Keycloak user exists, a second person never gets the first one's job or
// password, and Grafana accounts the provisioner did not make — a human's, the admin — are
// never adopted, changed or removed by create, delete or sync's rollback.
import { CoreV1Api } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QUEUES, syncRunResult } from '@kup/core';
import { emailOf, uniqueUsername } from '../helpers/names.js';
import { grafanaLoginStatus, oidcLogin } from '../helpers/oidc.js';
import {
  adminKubeConfig,
  createKeycloakUser,
  deleteKeycloakUser,
  eventually,
  findGrafanaUser,
  findKeycloakUser,
  getNamespace,
  grafanaAdmin,
  keycloakAdmin,
  stackEnv,
} from '../helpers/stack.js';
import { callApi, startService, type Service } from './service-harness.js';

describe('names and identities: API and worker against the stack', () => {
  let s: Service;
  const trainees: string[] = [];
  const grafanaIds: number[] = [];
  const keycloakIds: string[] = [];

  const call = (method: string, path: string, body?: object, wait?: number) => callApi(s, method, path, body, wait);
  const create = (body: object, wait?: number) => call('POST', '/provisioner', body, wait);
  const jobOf = (id: string) => s.apiDeps.queues[QUEUES.provisioning].getJob(id);

  /** A Grafana account made by hand, as a human (or another tool) would have it. */
  const humanGrafanaAccount = async (login: string, email: string, password: string) => {
    const response = await grafanaAdmin('/api/admin/users', { method: 'POST', json: { login, email, name: 'A Human', password } });
    expect(response.status).toBe(200);
    const { id } = (await response.json()) as { id: number };
    grafanaIds.push(id);
    return id;
  };

  beforeAll(async () => {
    s = await startService();
  });

  afterAll(async () => {
    for (const name of trainees) await call('DELETE', '/provisioner', { email: emailOf(name) }, 60).catch(() => undefined);
    for (const id of grafanaIds) await grafanaAdmin(`/api/admin/users/${id}`, { method: 'DELETE' }).catch(() => undefined);
    for (const id of keycloakIds) await deleteKeycloakUser(id).catch(() => undefined);
    await s?.close();
  });

  describe('names', () => {
    it('a reserved namespace: 409 NAMESPACE_RESERVED from the API at once, nothing queued', async () => {
      for (const email of ['kube-public@example.invalid', 'argocd@example.invalid', 'cert.manager@example.invalid', 'default@example.invalid']) {
        const answer = await create({ email }, 30);
        expect(answer.status, email).toBe(409);
        expect(answer.body).toMatchObject({ code: 'NAMESPACE_RESERVED' });
      }
      expect(await jobOf('create-kube-public')).toBeUndefined();
      expect(await findKeycloakUser('kube-public')).toBeUndefined();
    });

    it('a reserved namespace queued past the API is refused by the worker before Keycloak is asked', async () => {
      const job = await s.apiDeps.queues[QUEUES.provisioning].add('create', { username: 'monitoring', email: 'monitoring@example.invalid' }, { jobId: 'create-monitoring', attempts: 1 });
      const failed = await waitFinished(job.id as string);
      expect(failed.failedReason).toMatch(/^NAMESPACE_RESERVED: /);
      // `creatingAt` is written before the worker asks Keycloak to create the user.
      expect(failed.data.state?.creatingAt).toBeUndefined();
      expect(await findKeycloakUser('monitoring')).toBeUndefined();
    });

    it('a namespace the provisioner does not manage: 409, and no Keycloak user ever made (not even for a moment)', async () => {
      const name = uniqueUsername('t-foreign');
      const core = adminKubeConfig().makeApiClient(CoreV1Api);
      await core.createNamespace({ body: { metadata: { name, labels: { team: 'platform' } } } });
      try {
        const answer = await create({ email: emailOf(name) }, 60);
        expect(answer.status).toBe(409);
        expect(answer.body).toMatchObject({ code: 'NAMESPACE_CONFLICT', jobId: `create-${name}` });
        const job = await jobOf(`create-${name}`);
        expect(job?.data.state?.creatingAt).toBeUndefined();
        expect(job?.data.state?.owned?.keycloak).toBeUndefined();
        expect(await findKeycloakUser(name)).toBeUndefined();
        expect((await getNamespace(name))?.metadata?.labels).toEqual({ team: 'platform', 'kubernetes.io/metadata.name': name });
      } finally {
        await core.deleteNamespace({ name }).catch(() => undefined);
      }
    });
  });

  describe('two people, one username', () => {
    it('the second person gets a 409, never the first one\'s job or password; the first one\'s retry keeps it', async () => {
      const name = uniqueUsername('t-two');
      trainees.push(name);
      const first = await create({ email: emailOf(name), full_name: 'First Trainee' }, 90);
      expect(first.status, JSON.stringify(first.body)).toBe(200);
      const password = first.body.password as string;
      expect(password).toBeTruthy();

      // Another person whose email (or, with the same email, whose name) gives the same username.
      for (const other of [{ email: emailOf(name, 'other.invalid'), full_name: 'Second Trainee' }, { email: emailOf(name), full_name: 'Second Trainee' }]) {
        for (const wait of [undefined, 60]) {
          const second = await create(other, wait);
          expect(second.status).toBe(409);
          expect(second.body).toEqual({ code: 'USERNAME_CONFLICT', message: expect.stringContaining('another trainee') });
        }
      }
      // The first trainee's retried POST: 409 USER ALREADY EXIST, and the password they may
      // not have read yet is still there, and still the one that logs in.
      const retry = await create({ email: emailOf(name), full_name: 'First Trainee' }, 60);
      expect(retry.status).toBe(409);
      expect(retry.body).toEqual({ message: 'USER ALREADY EXIST', jobId: `create-${name}` });
      const view = await call('GET', `/jobs/create-${name}`);
      expect(view.body.result).toMatchObject({ email: emailOf(name), password });
      await oidcLogin(name, password);
      expect(await grafanaLoginStatus(name, password)).toBe(200);
      expect((await findKeycloakUser(name))?.email).toBe(emailOf(name));

      // The second person un-enrolled (a stale LMS, a typo): their DELETE never takes the
      // first one's playground, whatever it asks to wait.
      for (const wait of [60, undefined]) {
        const gone = await call('DELETE', '/provisioner', { email: emailOf(name, 'other.invalid'), full_name: 'Second Trainee' }, wait);
        if (wait) {
          expect(gone.status).toBe(409);
          expect(gone.body).toMatchObject({ code: 'USERNAME_CONFLICT' });
        } else {
          expect(gone.status).toBe(202);
          await eventually('the delete job fails', async () => ((await jobOf(`delete-${name}`))?.failedReason ? true : undefined), 60_000);
        }
      }
      expect((await findKeycloakUser(name))?.email).toBe(emailOf(name));
      expect(await getNamespace(name)).toBeDefined();
      await oidcLogin(name, password);
      expect(await grafanaLoginStatus(name, password)).toBe(200);
    });
  });

  describe('Grafana: only accounts the provisioner made', () => {
    it('create never adopts a human account with the same login and email: 409, its password and role untouched', async () => {
      const name = uniqueUsername('t-human');
      const humanPassword = `Human-Pass-${name}`;
      const id = await humanGrafanaAccount(name, emailOf(name), humanPassword);
      const answer = await create({ email: emailOf(name) }, 90);
      expect(answer.status).toBe(409);
      expect(answer.body).toMatchObject({ code: 'USERNAME_CONFLICT' });
      expect(answer.body).not.toHaveProperty('password');
      expect(await grafanaLoginStatus(name, humanPassword)).toBe(200);
      expect(await findGrafanaUser(name)).toMatchObject({ id, email: emailOf(name) });
      // Rolled back: nothing of the refused trainee is left.
      expect(await findKeycloakUser(name)).toBeUndefined();
      expect(await getNamespace(name)).toBeUndefined();

      // A delete for that email finds no trainee and leaves the human account.
      const deleted = await call('DELETE', '/provisioner', { email: emailOf(name) }, 60);
      expect(deleted.status).toBe(404);
      expect(deleted.body).toMatchObject({ message: `No provisioned user found with username: ${name}`, username: name });
      expect(await grafanaLoginStatus(name, humanPassword)).toBe(200);
    });

    it('DELETE for admin@… leaves Grafana\'s admin, and a create of "admin" is refused before anything is made', async () => {
      const adminUser = stackEnv('GRAFANA_ADMIN_USER');
      const adminPassword = stackEnv('GRAFANA_ADMIN_PASSWORD');
      const before = await findGrafanaUser(adminUser);
      expect(before).toBeDefined();

      const deleted = await call('DELETE', '/provisioner', { email: `${adminUser}@example.com` }, 60);
      expect(deleted.status).toBe(404);
      expect(deleted.body).toMatchObject({ message: `No provisioned user found with username: ${adminUser}`, username: adminUser });
      expect(await findGrafanaUser(adminUser)).toEqual(before);
      expect(await grafanaLoginStatus(adminUser, adminPassword)).toBe(200);

      const created = await create({ email: `${adminUser}@example.com` }, 60);
      expect(created.status).toBe(409);
      expect(created.body).toMatchObject({ code: 'USERNAME_CONFLICT' });
      expect((await jobOf(`create-${adminUser}`))?.data.state?.creatingAt).toBeUndefined();
      expect(await findKeycloakUser(adminUser)).toBeUndefined();
      expect(await grafanaLoginStatus(adminUser, adminPassword)).toBe(200);

      // The service, which calls Grafana as that admin, still creates trainees afterwards.
      const name = uniqueUsername('t-after');
      trainees.push(name);
      expect((await create({ email: emailOf(name) }, 90)).status).toBe(200);
    });

    it('sync\'s rollback of a half-made user leaves a human Grafana account under its login', async () => {
      const name = uniqueUsername('t-halfh');
      const humanPassword = `Human-Pass-${name}`;
      const id = await humanGrafanaAccount(name, emailOf(name, 'human.invalid'), humanPassword);
      // Half-made by this version: managed, not provisioned, no Grafana account recorded.
      const userId = await createKeycloakUser({ username: name, email: emailOf(name), attributes: { 'managed-by': ['k8s-provisioner'], 'grafana-user-id': ['none'] } });
      keycloakIds.push(userId);

      const run = await call('POST', '/sync', { username: name }, 90);
      expect(run.status, JSON.stringify(run.body)).toBe(200);
      const result = syncRunResult.parse(run.body);
      expect(result.results.failed_fixes).toEqual([{ username: name, error: expect.stringMatching(/rolled back.*USERNAME_CONFLICT/) }]);
      expect(await findKeycloakUser(name)).toBeUndefined();
      expect(await findGrafanaUser(name)).toMatchObject({ id });
      expect(await grafanaLoginStatus(name, humanPassword)).toBe(200);
    });

    it('sync\'s rollback of a half-made "admin" leaves Grafana\'s admin, whatever the Keycloak records claim', async () => {
      const adminUser = stackEnv('GRAFANA_ADMIN_USER');
      const adminPassword = stackEnv('GRAFANA_ADMIN_PASSWORD');
      const admin = await findGrafanaUser(adminUser);
      expect(admin).toBeDefined();
      // A managed user that claims the admin's account: its login, its email, even its id.
      const userId = await createKeycloakUser({
        username: adminUser,
        email: admin!.email.includes('@') ? admin!.email : `${adminUser}@example.com`,
        attributes: { 'managed-by': ['k8s-provisioner'], 'grafana-user-id': [String(admin!.id)] },
      });
      keycloakIds.push(userId);

      const run = await call('POST', '/sync', { username: adminUser }, 90);
      expect(run.status, JSON.stringify(run.body)).toBe(200);
      expect(syncRunResult.parse(run.body).results.failed_fixes).toEqual([{ username: adminUser, error: expect.stringMatching(/rolled back/) }]);
      expect(await findKeycloakUser(adminUser)).toBeUndefined();
      expect(await findGrafanaUser(adminUser)).toEqual(admin);
      expect(await grafanaLoginStatus(adminUser, adminPassword)).toBe(200);
    });

    it('a trainee made now records its Grafana account in Keycloak, and its delete removes exactly that one', async () => {
      const name = uniqueUsername('t-rec');
      const made = await create({ email: emailOf(name) }, 90);
      expect(made.status, JSON.stringify(made.body)).toBe(200);
      const grafanaUser = await findGrafanaUser(name);
      const user = await findKeycloakUser(name);
      expect(user?.attributes?.['grafana-user-id']).toEqual([String(grafanaUser!.id)]);
      // Not verified: nobody proved the caller's email (KEYCLOAK_EMAIL_VERIFIED is off).
      const full = (await (await keycloakAdmin(`/users/${user!.id}`)).json()) as { emailVerified?: boolean };
      expect(full.emailVerified).toBe(false);

      const deleted = await call('DELETE', '/provisioner', { email: emailOf(name) }, 90);
      expect(deleted.status).toBe(200);
      expect(await findGrafanaUser(name)).toBeUndefined();
    });
  });

  async function waitFinished(jobId: string) {
    const queue = s.apiDeps.queues[QUEUES.provisioning];
    await eventually(`${jobId} to finish`, async () => (['completed', 'failed'].includes(await queue.getJobState(jobId)) ? true : undefined), 60_000, 100);
    return (await queue.getJob(jobId))!;
  }
});
