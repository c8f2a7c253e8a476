// A create that fails for good after making the trainee's Grafana account, with the account's
// id never saved and Grafana unreachable for its undo: the Keycloak user stays half-made and
// the failed job's state is the only record of the account. The trainer then sends the same
// create again, before any sync: the API replaces the failed job (same id) and its state with
// it. The account must still be found to be ours, by the next create and by sync's rollback,
// and never left to an operator. Real API and worker against the stack; Grafana behind a
// small proxy of the test's own that loses the create's answer, then goes down.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CoreV1Api } from '@kubernetes/client-node';
import { fetch } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LeftGrafanaAccounts, QUEUES, createJobId, syncRunResult } from '@kup/core';
import { emailOf, uniqueUsername } from '../helpers/names.js';
import { grafanaLoginStatus, oidcLogin } from '../helpers/oidc.js';
import { adminKubeConfig, eventually, findGrafanaUser, findKeycloakUser, getNamespace, grafanaAdmin, stackEnv } from '../helpers/stack.js';
import { waitForJob } from '../helpers/worker.js';
import { startService, type Service } from './service-harness.js';

/** `pass`: forwards; `lose-create`: forwards the account's create, answers 503, then is `down`; `down`: 503 to all. */
type Mode = 'pass' | 'lose-create' | 'down';

/** Plain HTTP in front of the stack's Grafana, as the worker's GRAFANA_URL. */
class GrafanaProxy {
  mode: Mode = 'pass';
  private constructor(private readonly server: Server) {}

  static async start(): Promise<GrafanaProxy> {
    const proxy = new GrafanaProxy(createServer());
    proxy.server.on('request', (request, response) => void proxy.handle(request, response));
    await new Promise<void>((resolve) => proxy.server.listen(0, '127.0.0.1', resolve));
    return proxy;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    if (this.mode === 'down') return void response.writeHead(503).end('{"message":"down"}');
    const upstream = await fetch(`${stackEnv('GRAFANA_URL').replace(/\/+$/, '')}${request.url}`, {
      method: request.method,
      headers: { authorization: request.headers.authorization ?? '', 'content-type': request.headers['content-type'] ?? 'application/json' },
      ...(chunks.length > 0 ? { body: Buffer.concat(chunks) } : {}),
    });
    const body = Buffer.from(await upstream.arrayBuffer());
    if (this.mode === 'lose-create' && request.method === 'POST' && request.url === '/api/admin/users') {
      // Made in Grafana; the answer (its id) never reaches the worker, and Grafana stays unreachable.
      this.mode = 'down';
      return void response.writeHead(503).end('{"message":"answer lost"}');
    }
    response.writeHead(upstream.status, { 'content-type': upstream.headers.get('content-type') ?? 'application/json' }).end(body);
  }
}

interface Answer {
  status: number;
  body: Record<string, any>;
}

describe('a failed create whose Grafana account was left, replaced by a new POST of the same trainee', () => {
  let s: Service;
  let grafana: GrafanaProxy;
  const trainees: string[] = [];

  const call = async (method: string, path: string, body: object, wait: number): Promise<Answer> => {
    const response = await fetch(`${s.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${s.token}`, 'content-type': 'application/json', prefer: `wait=${wait}` },
      body: JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as Record<string, any> };
  };

  beforeAll(async () => {
    grafana = await GrafanaProxy.start();
    s = await startService({ workerEnv: { GRAFANA_URL: grafana.url } });
  });

  afterAll(async () => {
    grafana.mode = 'pass';
    for (const name of trainees) {
      await call('DELETE', '/provisioner', { email: emailOf(name) }, 60).catch(() => undefined);
      const left = await findGrafanaUser(name).catch(() => undefined);
      if (left) await grafanaAdmin(`/api/admin/users/${left.id}`, { method: 'DELETE' });
    }
    await s?.close();
    await grafana?.close();
  });

  /**
   * The first create (one attempt, as the last of a job's attempts): its Grafana account is
   * made but its id lost, and Grafana stays down through every try of the undo. Left: the
   * half-made Keycloak user, the account, and the failed job's state as their only link.
   */
  async function failFirstCreate(name: string) {
    trainees.push(name);
    grafana.mode = 'lose-create';
    const queue = s.apiDeps.queues[QUEUES.provisioning];
    await queue.add('create', { username: name, email: emailOf(name) }, { jobId: createJobId(name), attempts: 1 });
    const { state, job } = await waitForJob(queue, createJobId(name), 120_000);
    expect(state).toBe('failed');
    grafana.mode = 'pass';

    const user = await findKeycloakUser(name);
    expect(user?.attributes).toMatchObject({ 'managed-by': ['k8s-provisioner'], 'grafana-user-id': ['none'] });
    expect(user?.attributes?.provisioned).not.toEqual(['true']);
    const account = await findGrafanaUser(name);
    expect(account).toMatchObject({ login: name, email: emailOf(name) });
    // The only record of the account: the failed job's marks, with the user's id and no account id.
    expect(job.data.state).toMatchObject({ userId: user!.id, owned: { keycloak: true, grafana: true } });
    expect(job.data.state.grafanaUserId).toBeUndefined();
    // …and the record the undo kept out of the job, by username, for whatever comes next.
    expect(await leftAccount(name)).toEqual({ userId: user!.id });
    return { userId: user!.id, accountId: account!.id };
  }

  const leftAccount = (name: string) => new LeftGrafanaAccounts(s.apiDeps.redis, s.workerConfig.QUEUE_PREFIX).get(name);

  it('the new POST replaces the failed job and takes the account by its record: 200, the password works in Grafana and Kubernetes', async () => {
    const name = uniqueUsername('t-leftg');
    const { userId, accountId } = await failFirstCreate(name);

    const again = await call('POST', '/provisioner', { email: emailOf(name) }, 90);
    expect(again.status, JSON.stringify(again.body)).toBe(200);
    const password = again.body.password as string;
    expect(password).toBeTruthy();
    // The same account and the same Keycloak user, finished; nothing made twice.
    expect(await findGrafanaUser(name)).toMatchObject({ id: accountId, login: name });
    const user = await findKeycloakUser(name);
    expect(user).toMatchObject({ id: userId });
    expect(user?.attributes).toMatchObject({ provisioned: ['true'], 'grafana-user-id': [String(accountId)] });
    expect(await grafanaLoginStatus(name, password)).toBe(200);
    await oidcLogin(name, password);
    // Recorded on the user now: the record by username is done with.
    expect(await leftAccount(name)).toBeUndefined();
  });

  it('a replacement that fails before Grafana leaves the record: sync\'s rollback removes the account', async () => {
    const name = uniqueUsername('t-leftg');
    await failFirstCreate(name);
    // The first create's undo removed its namespace; one the provisioner does not manage takes the name.
    await eventually('namespace gone', async () => ((await getNamespace(name)) === undefined ? true : undefined), 60_000);
    const core = adminKubeConfig().makeApiClient(CoreV1Api);
    await core.createNamespace({ body: { metadata: { name } } });
    try {
      const refused = await call('POST', '/provisioner', { email: emailOf(name) }, 60);
      expect(refused.status).toBe(409);
      expect(refused.body).toMatchObject({ code: 'NAMESPACE_CONFLICT', jobId: createJobId(name) });
      // The failed job, and its state, are the replacement's now: no Grafana mark in it.
      expect((await s.apiDeps.queues[QUEUES.provisioning].getJob(createJobId(name)))?.data.state?.owned?.grafana).toBeUndefined();
    } finally {
      await core.deleteNamespace({ name });
    }
    await eventually('namespace gone', async () => ((await getNamespace(name)) === undefined ? true : undefined), 60_000);

    const run = await call('POST', '/sync', { username: name }, 90);
    expect(run.status, JSON.stringify(run.body)).toBe(200);
    expect(syncRunResult.parse(run.body).results.failed_fixes).toEqual([{ username: name, error: expect.stringMatching(/rolled back.*USERNAME_CONFLICT/) }]);
    expect(await findKeycloakUser(name)).toBeUndefined();
    expect(await findGrafanaUser(name)).toBeUndefined();
    expect(await leftAccount(name)).toBeUndefined();
    // Nothing left: a new create of the trainee now succeeds from scratch.
    const fresh = await call('POST', '/provisioner', { email: emailOf(name) }, 90);
    expect(fresh.status, JSON.stringify(fresh.body)).toBe(200);
  });
});
