import { randomBytes } from 'node:crypto';
import { createAdapters, type Adapters } from '@kup/adapters';
import { ConfigError, loadWorkerConfig } from '@kup/core';
import type { ApiClient, JobView } from '../api-client.js';
import { progress } from '../progress.js';
import { EXIT, type CliIo } from '../io.js';
import { waitForJob } from '../wait.js';

interface Check {
  scenario: string;
  ok: boolean;
  detail: string;
}

class CheckFailed extends Error {}

function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new CheckFailed(message);
}

/**
 * The old test client's full scenario, against the API, checked directly in Keycloak,
 * Kubernetes and Grafana (with the worker's env): create+delete, create+reset with a
 * ConfigMap, create+cleanup, create+sync after removing the namespace and the Grafana
 * user by hand. Its users are its own (`--prefix`), and cleanup is scoped to them (and confirmed: it deletes all of them).
 */
export async function processCommand(api: ApiClient, io: CliIo, options: { prefix: string | undefined; json: boolean }): Promise<number> {
  let ports: Adapters;
  try {
    ports = createAdapters(loadWorkerConfig(io.env), { caFile: io.env.STACK_CA_FILE });
  } catch (error) {
    if (error instanceof ConfigError) {
      io.err(`process checks every system directly and needs the worker's environment:\n${error.message}`);
      return EXIT.usage;
    }
    throw error;
  }
  const base = options.prefix ?? `process-${randomBytes(3).toString('hex')}`;
  const checks: Check[] = [];
  const made = new Set<string>();

  const job = async (method: 'POST' | 'DELETE', path: string, body: object): Promise<JobView> => {
    const { body: answer } = await api.expect([202], method, path, body);
    const shown = progress(io, '  ');
    const view = await waitForJob(api, (answer as { jobId: string }).jobId, { timeoutMs: 300_000, onProgress: (v) => shown.update(v) }).finally(() => shown.end());
    assert(view.state === 'completed', `${method} /${path} ended ${view.state}: ${view.error?.code ?? ''} ${view.error?.message ?? ''}`);
    return view;
  };
  const identity = (u: string) => ({ email: `${u}@example.invalid`, full_name: `Process ${u}` });
  const create = async (u: string) => {
    made.add(u);
    const view = await job('POST', 'provisioner', identity(u));
    assert(typeof view.result?.password === 'string', 'create returned no password');
    return view;
  };
  const remove = async (u: string) => {
    await job('DELETE', 'provisioner', identity(u));
    made.delete(u);
  };
  const state = async (u: string) => {
    const [user, namespace, grafana] = await Promise.all([ports.identity.findUser(u), ports.cluster.getNamespace(u), ports.grafana.findUser(u)]);
    return { user, namespace, grafana };
  };
  const scenario = async (name: string, work: () => Promise<void>) => {
    io.err(`▶ ${name}`);
    try {
      await work();
      checks.push({ scenario: name, ok: true, detail: 'ok' });
      io.err(`✔ ${name}`);
    } catch (error) {
      const detail = error instanceof Error ? error.message : String(error);
      checks.push({ scenario: name, ok: false, detail });
      io.err(`✘ ${name}: ${detail}`);
    }
  };

  try {
    await scenario('create + delete', async () => {
      const u = `${base}-a`;
      await create(u);
      const after = await state(u);
      assert(after.user?.provisioned, 'Keycloak user missing or not provisioned');
      assert(after.namespace, 'namespace missing');
      assert(after.grafana, 'Grafana user missing');
      await remove(u);
      const gone = await state(u);
      assert(!gone.user && !gone.namespace && !gone.grafana, 'something is left after delete');
    });

    await scenario('create + reset (ConfigMap gone, namespace kept)', async () => {
      const u = `${base}-b`;
      await create(u);
      const configMap = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'process-check', namespace: u }, data: { a: 'b' } };
      await ports.cluster.apply(configMap);
      assert(await ports.cluster.get({ apiVersion: 'v1', kind: 'ConfigMap', name: 'process-check', namespace: u }), 'ConfigMap not written');
      const view = await job('POST', 'reset', { username: u });
      assert(view.result?.namespaces_reset === 1, `namespaces_reset is ${String(view.result?.namespaces_reset)}`);
      assert(!(await ports.cluster.get({ apiVersion: 'v1', kind: 'ConfigMap', name: 'process-check', namespace: u })), 'ConfigMap still there');
      assert(await ports.cluster.getNamespace(u), 'namespace gone after reset');
      assert(await ports.cluster.get({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', name: u, namespace: u }), 'RoleBinding missing');
      await remove(u);
    });

    await scenario('create + cleanup', async () => {
      const u = `${base}-c`;
      await create(u);
      const view = await job('POST', 'cleanup', { maxAgeDays: 0, usernamePrefix: u, confirmMassDelete: true });
      const deleted = (view.result?.deleted_users as { username: string }[] | undefined) ?? [];
      assert(deleted.some((d) => d.username === u), 'cleanup did not report the user deleted');
      const gone = await state(u);
      assert(!gone.user && !gone.namespace && !gone.grafana, 'something is left after cleanup');
      made.delete(u);
    });

    await scenario('create + sync after removing namespace and Grafana user', async () => {
      const u = `${base}-d`;
      await create(u);
      await ports.cluster.deleteNamespace(u);
      await ports.cluster.waitForNamespaceGone(u, 120_000);
      const grafanaUser = await ports.grafana.findUser(u);
      assert(grafanaUser, 'Grafana user missing before sync');
      await ports.grafana.deleteUser(grafanaUser.id);
      const view = await job('POST', 'sync', { username: u });
      type Fixed = { username: string; fixed_grafana: boolean; fixed_namespace: boolean; grafana_password_reset?: boolean; password_job_id?: string };
      const fixed = (view.result?.results as { fixed_users: Fixed[] } | undefined)?.fixed_users.find((f) => f.username === u);
      assert(fixed?.fixed_grafana && fixed.fixed_namespace, 'sync did not report both fixes');
      const after = await state(u);
      assert(after.namespace && after.grafana, 'namespace or Grafana user not repaired');
      // Sync keeps the trainee's password: Grafana gets the current one while the service holds
      // it (a create just made), else a new one of its own, readable from the sync's job.
      if (fixed.grafana_password_reset) {
        assert(fixed.password_job_id, 'a new Grafana password but no password job id');
        const passwordJob = await api.job(fixed.password_job_id);
        assert(typeof passwordJob.result?.password === 'string', 'the new password is not readable from its job');
      } else {
        assert(!fixed.password_job_id, 'a password job id although the password was kept');
      }
      await remove(u);
    });
  } finally {
    for (const u of made) await job('DELETE', 'provisioner', identity(u)).catch(() => undefined);
    await ports.close();
  }

  if (options.json) io.out(JSON.stringify({ prefix: base, checks }, null, 2));
  else io.out(checks.map((c) => `${c.ok ? 'PASS' : 'FAIL'}  ${c.scenario}${c.ok ? '' : `: ${c.detail}`}`).join('\n'));
  return checks.every((c) => c.ok) ? EXIT.ok : EXIT.failed;
}
