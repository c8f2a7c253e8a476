// SIGKILL the worker at random points during N creates (50 in the default test run, 200 with
// `npm run test:reliability`; RELIABILITY_KILL_CREATES
// to change, RELIABILITY_KILLS for the number of kills). Creates go through the real API;
// workers run as child processes exactly as deployed. Afterwards: N of N jobs completed,
// every trainee complete in Keycloak, Kubernetes and Grafana, no duplicates, no orphans,
// each password works, and no password or token in logs or Redis. Then everything is
// deleted through the API and must be gone everywhere.
import { randomInt } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QUEUES } from '@kup/core';
import { ensureTraineeClusterRole, findGrafanaUser } from '../helpers/stack.js';
import { grafanaLoginStatus, oidcLogin } from '../helpers/oidc.js';
import { ARTIFACTS, dropPrefix, env, eventually, hex, LogCapture, sizeFromEnv, startTestApi, uniquePrefix, type TestApi } from './harness.js';
import { scanRedis, scanText, stackSecrets, type Secret } from './secret-scan.js';
import { everythingTagged, inspectAll, summarize } from './trainees.js';
import { WorkerProcess } from './worker-process.js';

const N = sizeFromEnv('RELIABILITY_KILL_CREATES', 50);
const KILLS = sizeFromEnv('RELIABILITY_KILLS', 8);
const prefix = uniquePrefix('kill');
const tag = `rk${hex(3)}`;
const usernames = Array.from({ length: N }, (_, i) => `${tag}-${i}`);
const emailOf = (username: string) => `${username}@reliability.example`;
const workerEnv = {
  QUEUE_PREFIX: prefix,
  WORKER_CONCURRENCY: '8',
  // A killed worker's jobs count as stalled once their lock lapses: keep that short.
  WORKER_LOCK_DURATION_MS: '4000',
  WORKER_STALLED_INTERVAL_MS: '1000',
  JOB_BACKOFF_MS: '500',
  LOG_LEVEL: 'debug',
};

let api: TestApi;
const workerLogs = new LogCapture();
let worker: WorkerProcess | undefined;
const figures: Record<string, unknown> = { creates: N };

beforeAll(async () => {
  await ensureTraineeClusterRole();
  api = await startTestApi(prefix);
});

afterAll(async () => {
  await worker?.stop();
  workerLogs.save('worker-kill-worker');
  api?.logs.save('worker-kill-api');
  writeFileSync(join(ARTIFACTS, 'worker-kill.json'), JSON.stringify(figures, null, 2));
  await api?.close();
  await dropPrefix(env('REDIS_URL'), prefix);
}, 120_000);

async function post(method: 'POST' | 'DELETE', username: string): Promise<string> {
  const res = await api.app.inject({ method, url: '/provisioner', headers: { authorization: `Bearer ${api.token}` }, payload: { email: emailOf(username) } });
  expect(res.statusCode, res.body).toBe(202);
  return res.json<{ jobId: string }>().jobId;
}

async function finishedCount(): Promise<{ completed: number; failed: number }> {
  const counts = await api.deps.queues[QUEUES.provisioning].getJobCounts('completed', 'failed');
  return { completed: counts.completed ?? 0, failed: counts.failed ?? 0 };
}

describe(`worker SIGKILLed at random points during ${N} creates`, () => {
  const passwords = new Map<string, string>();

  it(`completes ${N} of ${N}, with no orphans and no duplicates`, async () => {
    const started = Date.now();
    for (const username of usernames) await post('POST', username);
    worker = await WorkerProcess.start(workerEnv, workerLogs);

    let kills = 0;
    while (kills < KILLS) {
      // Let the restarted worker make progress first (one more job done), so the kills are
      // spread over the run rather than hitting the same resumed jobs again and again.
      const before = (await finishedCount()).completed;
      const progressed = await eventually('progress since the last restart', async () => {
        const { completed, failed } = await finishedCount();
        if (completed + failed >= N) return 'done';
        return completed > before ? 'progress' : undefined;
      }, 120_000, 200);
      if (progressed === 'done') break;
      // The kill point: a random moment of the run (not a synchronisation wait).
      await new Promise((resolve) => setTimeout(resolve, randomInt(200, 4_000)));
      await worker.kill('SIGKILL');
      kills += 1;
      worker = await WorkerProcess.start(workerEnv, workerLogs);
    }
    const done = await eventually('all creates finished', async () => {
      const counts = await finishedCount();
      return counts.completed + counts.failed >= N ? counts : undefined;
    }, Math.max(300_000, N * 3_000), 1_000);
    figures.kills = kills;
    figures.createSeconds = (Date.now() - started) / 1000;
    figures.stalledRuns = workerLogs.lines.filter((line) => line.includes('stalled')).length;

    const failedJobs = await api.deps.queues[QUEUES.provisioning].getFailed();
    expect(failedJobs.map((job) => `${job.id}: ${job.failedReason}`)).toEqual([]);
    expect(done.completed).toBe(N);

    // Each job's answer through the API: completed, with its password.
    for (const username of usernames) {
      const res = await api.app.inject({ method: 'GET', url: `/jobs/create-${username}`, headers: { authorization: api.token } });
      const view = res.json<{ state: string; result?: { password?: string } }>();
      expect(view.state).toBe('completed');
      expect(view.result?.password, username).toBeTruthy();
      passwords.set(username, view.result?.password as string);
    }

    // In all three systems: complete, none partial; exactly N of each, nothing else with the tag.
    const summary = summarize(await inspectAll(usernames));
    expect(summary.partial).toEqual([]);
    expect(summary.complete).toBe(N);
    const tagged = await everythingTagged(tag);
    expect(tagged.keycloak.sort()).toEqual([...usernames].sort());
    expect(tagged.namespaces.sort()).toEqual([...usernames].sort());
    figures.verified = { complete: summary.complete, partial: summary.partial.length, keycloakUsers: tagged.keycloak.length, namespaces: tagged.namespaces.length };
  }, 1_800_000);

  it('gives every trainee one Grafana user and a password that works (Grafana: all, Kubernetes OIDC: a sample)', async () => {
    expect(passwords.size).toBe(N);
    const bad: string[] = [];
    for (const username of usernames) {
      const byLogin = await findGrafanaUser(username);
      const byEmail = await findGrafanaUser(emailOf(username));
      if (!byLogin || byLogin.id !== byEmail?.id) bad.push(`${username}: grafana ${byLogin?.id} vs ${byEmail?.id}`);
      else if ((await grafanaLoginStatus(username, passwords.get(username) as string)) !== 200) bad.push(`${username}: grafana login`);
    }
    for (const username of usernames.filter((_, i) => i % Math.max(1, Math.floor(N / 10)) === 0)) {
      await oidcLogin(username, passwords.get(username) as string).catch((error: unknown) => bad.push(`${username}: ${String(error)}`));
    }
    expect(bad).toEqual([]);
  }, 600_000);

  it('left no password, token or client secret in the logs or in Redis', async () => {
    const secrets: Secret[] = [...stackSecrets(), { kind: 'api token', value: api.token }, ...[...passwords.values()].map((value) => ({ kind: 'trainee password', value }))];
    const findings = [...scanText('worker logs', workerLogs.text(), secrets), ...scanText('api logs', api.logs.text(), secrets)];
    const redis = await scanRedis(env('REDIS_URL'), prefix, secrets);
    figures.secretScan = { logLines: workerLogs.lines.length + api.logs.lines.length, redisKeys: redis.keys, secretsSearched: secrets.length };
    expect([...findings, ...redis.findings]).toEqual([]);
    expect(redis.keys).toBeGreaterThan(N);
  }, 120_000);

  it('deletes them all through the API: nothing left anywhere', async () => {
    expect(worker?.running, 'the create run left a worker running').toBe(true);
    const started = Date.now();
    for (const username of usernames) await post('DELETE', username);
    await eventually('all deletes finished', async () => {
      const counts = await api.deps.queues[QUEUES.provisioning].getJobCounts('completed', 'failed');
      return (counts.completed ?? 0) + (counts.failed ?? 0) >= 2 * N ? true : undefined;
    }, Math.max(300_000, N * 3_000), 1_000);
    figures.deleteSeconds = (Date.now() - started) / 1000;
    expect((await api.deps.queues[QUEUES.provisioning].getFailed()).map((j) => `${j.id}: ${j.failedReason}`)).toEqual([]);
    const summary = summarize(await inspectAll(usernames));
    expect(summary.partial).toEqual([]);
    expect(summary.absent).toBe(N);
  }, 1_800_000);
});
