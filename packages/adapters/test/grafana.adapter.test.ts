import { afterAll, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { GrafanaHttpGateway } from '../src/grafana.adapter.js';
import { UpstreamError } from '@kup/core';
import { stackAgent, stackEnv, uniqueName } from './stack.js';

const env = stackEnv('GRAFANA_URL', 'GRAFANA_ADMIN_USER', 'GRAFANA_ADMIN_PASSWORD');
const options = {
  baseUrl: env.GRAFANA_URL!,
  adminUser: env.GRAFANA_ADMIN_USER!,
  adminPassword: env.GRAFANA_ADMIN_PASSWORD!,
  timeoutMs: 10_000,
  caFile: env.STACK_CA_FILE,
};
const grafana = new GrafanaHttpGateway(options);
const agent = stackAgent(env.STACK_CA_FILE);
const created: number[] = [];

afterAll(async () => {
  await Promise.all(created.map((id) => grafana.deleteUser(id)));
  await grafana.close();
  await agent.close();
});

async function get(path: string, basic: string): Promise<{ status: number; body: unknown }> {
  const response = await request(new URL(path, options.baseUrl), {
    dispatcher: agent,
    headers: { authorization: `Basic ${Buffer.from(basic).toString('base64')}` },
  });
  return { status: response.statusCode, body: await response.body.json() };
}

async function expectUpstream(work: Promise<unknown>): Promise<UpstreamError> {
  const error = await work.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(UpstreamError);
  return error as UpstreamError;
}

describe('GrafanaHttpGateway (Grafana contract server)', () => {
  it('creates, looks up, changes password and role, deletes', async () => {
    const login = uniqueName('gf-trip');
    const email = `${login}@example.test`;
    expect(await grafana.findUser(login)).toBeUndefined();

    const id = await grafana.createUser({ login, email, name: 'Ada Lovelace', password: 'First-passw0rd', orgId: 1 });
    created.push(id);
    expect(await grafana.findUser(login)).toEqual({ id, login, email, isGrafanaAdmin: false });
    expect(await grafana.findUser(email)).toEqual({ id, login, email, isGrafanaAdmin: false });
    expect((await get('/api/user', `${login}:First-passw0rd`)).status).toBe(200);

    await grafana.setPassword(id, 'Second-passw0rd');
    expect((await get('/api/user', `${login}:Second-passw0rd`)).status).toBe(200);
    expect((await get('/api/user', `${login}:First-passw0rd`)).status).toBe(401);

    await grafana.setOrgRole(1, id, 'Editor');
    const members = (await get('/api/orgs/1/users', `${options.adminUser}:${options.adminPassword}`)).body as { userId: number; role: string }[];
    expect(members.find((m) => m.userId === id)?.role).toBe('Editor');

    expect(await grafana.deleteUser(id)).toBe(true);
    expect(await grafana.findUser(login)).toBeUndefined();
    expect(await grafana.deleteUser(id)).toBe(false);
  });

  it('refuses a duplicate login as a permanent 412 without echoing the password', async () => {
    const login = uniqueName('gf-dup');
    const id = await grafana.createUser({ login, email: `${login}@example.test`, name: login, password: 'Dup-passw0rd-1', orgId: 1 });
    created.push(id);
    const error = await expectUpstream(
      grafana.createUser({ login, email: `${login}-other@example.test`, name: login, password: 'Dup-passw0rd-2', orgId: 1 }),
    );
    expect(error).toMatchObject({ system: 'grafana', status: 412, retryable: false });
    expect(error.message).not.toContain('Dup-passw0rd');
  });

  it('reports bad admin credentials as a permanent 401', async () => {
    const wrong = new GrafanaHttpGateway({ ...options, adminPassword: 'wrong-admin-password' });
    const error = await expectUpstream(wrong.findUser('admin'));
    expect(error).toMatchObject({ status: 401, retryable: false });
    expect(error.message).not.toContain('wrong-admin-password');
    await wrong.close();
  });

  it('reports a role change for an unknown user as a permanent 404', async () => {
    const error = await expectUpstream(grafana.setOrgRole(1, 987_654_321, 'Viewer'));
    expect(error).toMatchObject({ status: 404, retryable: false });
  });
});
