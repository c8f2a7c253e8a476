// Upstream faults: fault proxies in front of Keycloak, the apiserver (TCP: resets before
// and after forwarding, latency; TLS stays end to end) and Grafana (plus injected 502/503/504)
// at RELIABILITY_FAULT_RATE (default 0.3) of client chunks. N creates (RELIABILITY_FAULT_CREATES,
// default 10) through the API, a worker whose upstream URLs point at the proxies.
// Every job must end completed (the trainee complete everywhere) or failed with a code
// (the trainee absent everywhere): never a partial user. Then faults stop, everything is
// deleted, and nothing may be left.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QUEUES } from '@kup/core';
import { ensureTraineeClusterRole } from '../helpers/stack.js';
import { FaultProxy } from './fault-proxy.js';
import { ARTIFACTS, dropPrefix, env, eventually, hex, LogCapture, sizeFromEnv, startTestApi, uniquePrefix, type TestApi } from './harness.js';
import { scanRedis, scanText, stackSecrets } from './secret-scan.js';
import { inspectAll, verdictOf } from './trainees.js';
import { WorkerProcess } from './worker-process.js';

const N = sizeFromEnv('RELIABILITY_FAULT_CREATES', 10);
const RATE = Number(process.env.RELIABILITY_FAULT_RATE ?? '0.3');
const prefix = uniquePrefix('faults');
const tag = `rf${hex(3)}`;
const usernames = Array.from({ length: N }, (_, i) => `${tag}-${i}`);
const emailOf = (username: string) => `${username}@reliability.example`;

let api: TestApi;
let proxies: Record<'keycloak' | 'kubernetes' | 'grafana', FaultProxy>;
let worker: WorkerProcess | undefined;
const workerLogs = new LogCapture();
const figures: Record<string, unknown> = { creates: N, rate: RATE };

/** A copy of the stack's kubeconfig whose server is the proxy (same TLS names: 127.0.0.1). */
const proxiedKubeconfig = join(ARTIFACTS, `kubeconfig-${prefix}`);
function kubeconfigThrough(port: number): string {
  const file = proxiedKubeconfig;
  mkdirSync(ARTIFACTS, { recursive: true });
  writeFileSync(file, readFileSync(env('KUBECONFIG'), 'utf8').replace(/server: https:\/\/127\.0\.0\.1:\d+/, `server: https://127.0.0.1:${port}`), { mode: 0o600 });
  return file;
}

const portOf = (url: string) => Number(new URL(url).port);

beforeAll(async () => {
  await ensureTraineeClusterRole();
  api = await startTestApi(prefix);
  const apiserver = /server: https:\/\/127\.0\.0\.1:(\d+)/.exec(readFileSync(env('KUBECONFIG'), 'utf8'))?.[1];
  const tcp = ['reset', 'reset-after', 'latency'] as const;
  proxies = {
    keycloak: await FaultProxy.start({ upstreamHost: '127.0.0.1', upstreamPort: portOf(env('KEYCLOAK_URL')), rate: RATE, kinds: tcp }),
    kubernetes: await FaultProxy.start({ upstreamHost: '127.0.0.1', upstreamPort: Number(apiserver), rate: RATE, kinds: tcp }),
    grafana: await FaultProxy.start({ upstreamHost: '127.0.0.1', upstreamPort: portOf(env('GRAFANA_URL')), rate: RATE, kinds: [...tcp, 'http-5xx'] }),
  };
});

afterAll(async () => {
  await worker?.stop();
  workerLogs.save('upstream-faults-worker');
  api?.logs.save('upstream-faults-api');
  writeFileSync(join(ARTIFACTS, 'upstream-faults.json'), JSON.stringify(figures, null, 2));
  await Promise.all(Object.values(proxies ?? {}).map((proxy) => proxy.close()));
  rmSync(proxiedKubeconfig, { force: true }); // it holds the admin client key
  await api?.close();
  await dropPrefix(env('REDIS_URL'), prefix);
}, 120_000);

async function send(method: 'POST' | 'DELETE', username: string): Promise<void> {
  const res = await api.app.inject({ method, url: '/provisioner', headers: { authorization: `Bearer ${api.token}` }, payload: { email: emailOf(username) } });
  expect(res.statusCode, res.body).toBe(202);
}

async function waitAllFinished(total: number, timeoutMs: number) {
  return eventually('all jobs finished', async () => {
    const counts = await api.deps.queues[QUEUES.provisioning].getJobCounts('completed', 'failed');
    return (counts.completed ?? 0) + (counts.failed ?? 0) >= total ? counts : undefined;
  }, timeoutMs, 1_000);
}

const baseWorkerEnv = {
  QUEUE_PREFIX: prefix,
  WORKER_CONCURRENCY: '4',
  JOB_ATTEMPTS: '8',
  JOB_BACKOFF_MS: '200',
  UPSTREAM_TIMEOUT_MS: '5000',
  NAMESPACE_DELETE_TIMEOUT_SECONDS: '60',
  LOG_LEVEL: 'debug',
};

describe(`upstream faults at ${RATE * 100}%`, () => {
  it('ends every create completed or cleanly failed: never a partial user', async () => {
    const started = Date.now();
    worker = await WorkerProcess.start(
      {
        ...baseWorkerEnv,
        KEYCLOAK_URL: `https://127.0.0.1:${proxies.keycloak.port}`,
        OIDC_ISSUER_URL: process.env.OIDC_ISSUER_URL ?? `${env('KEYCLOAK_URL')}/realms/${env('KEYCLOAK_REALM')}`,
        KUBECONFIG: kubeconfigThrough(proxies.kubernetes.port),
        GRAFANA_URL: `http://127.0.0.1:${proxies.grafana.port}`,
      },
      workerLogs,
    );
    for (const username of usernames) await send('POST', username);
    const counts = await waitAllFinished(N, Math.max(600_000, N * 30_000));
    figures.createSeconds = (Date.now() - started) / 1000;
    figures.completed = counts.completed;
    figures.failed = counts.failed;
    figures.faults = Object.fromEntries(Object.entries(proxies).map(([name, proxy]) => [name, { ...proxy.stats }]));
    await worker.stop();

    const failed = new Map((await api.deps.queues[QUEUES.provisioning].getFailed()).map((job) => [job.data.username as string, job.failedReason]));
    figures.failedReasons = [...failed.values()];
    const states = await inspectAll(usernames);
    const wrong: string[] = [];
    for (const state of states) {
      const verdict = verdictOf(state);
      const reason = failed.get(state.username);
      if (reason === undefined && verdict !== 'complete') wrong.push(`${state.username}: completed job but ${verdict}: ${JSON.stringify(state)}`);
      if (reason !== undefined && verdict !== 'absent') wrong.push(`${state.username}: failed (${reason}) but ${verdict}: ${JSON.stringify(state)}`);
      if (reason !== undefined && !/^[A-Z_]+: /.test(reason)) wrong.push(`${state.username}: failure without a code: ${reason}`);
    }
    figures.partial = wrong.length;
    expect(wrong).toEqual([]);
    // The proxies did inject faults into every upstream.
    for (const proxy of Object.values(proxies)) expect(proxy.stats.reset + proxy.stats['reset-after'] + proxy.stats.latency + proxy.stats['http-5xx']).toBeGreaterThan(0);
  }, 1_800_000);

  it('keeps secrets out of the logs and Redis, faults or not', async () => {
    const findings = [...scanText('worker logs', workerLogs.text(), [...stackSecrets(), { kind: 'api token', value: api.token }]), ...scanText('api logs', api.logs.text(), stackSecrets())];
    const redis = await scanRedis(env('REDIS_URL'), prefix, [...stackSecrets(), { kind: 'api token', value: api.token }]);
    expect([...findings, ...redis.findings]).toEqual([]);
  });

  it('deletes everything once the faults stop', async () => {
    worker = await WorkerProcess.start(baseWorkerEnv, workerLogs);
    const before = await api.deps.queues[QUEUES.provisioning].getJobCounts('completed', 'failed');
    for (const username of usernames) await send('DELETE', username);
    await waitAllFinished((before.completed ?? 0) + (before.failed ?? 0) + N, Math.max(300_000, N * 5_000));
    const left = (await inspectAll(usernames)).filter((state) => verdictOf(state) !== 'absent');
    expect(left).toEqual([]);
  }, 900_000);
});
