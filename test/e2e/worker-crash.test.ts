// A worker process SIGKILLed in the middle of a create: BullMQ's stalled-job check hands
// the job to the next worker, which completes the same user with the same password.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { QueueEvents } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QUEUES, createJobResult, jobProgress } from '@kup/core';
import { emailOf, uniqueUsername } from '../helpers/names.js';
import { createConfigMapAs, grafanaLoginStatus, oidcLogin } from '../helpers/oidc.js';
import { ensureTraineeClusterRole, eventually, findKeycloakUser, getNamespace } from '../helpers/stack.js';
import { testWorker, waitForJob, type TestWorker } from '../helpers/worker.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

/** `node apps/worker/src/main.ts` from sources, with the test's env; its output is collected. */
function spawnWorker(env: Record<string, string>, output: string[]): ChildProcess {
  const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', 'apps/worker/src/main.ts'], {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  return child;
}

const exited = (child: ChildProcess) =>
  new Promise<void>((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve() : child.once('exit', () => resolve())));

describe('worker: crash in the middle of a create', () => {
  let w: TestWorker;
  let events: QueueEvents;
  const children: ChildProcess[] = [];
  const output: string[] = [];
  const username = uniqueUsername('t-crash');
  const graceful = uniqueUsername('t-sigterm');

  beforeAll(async () => {
    await ensureTraineeClusterRole();
    // Producer only: the workers are child processes. Short lock so a killed job stalls fast.
    w = await testWorker({ startWorker: false, overrides: { WORKER_LOCK_DURATION_MS: '3000', WORKER_STALLED_INTERVAL_MS: '1000' } });
    events = new QueueEvents(QUEUES.provisioning, { connection: { url: w.config.REDIS_URL }, prefix: w.config.QUEUE_PREFIX });
    await events.waitUntilReady();
  });

  afterAll(async () => {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await Promise.all(children.map(exited));
    // Remove the trainee with a worker of this process.
    const cleaner = await testWorker({ overrides: { QUEUE_PREFIX: w.config.QUEUE_PREFIX } });
    for (const name of [username, graceful]) {
      const job = await cleaner.addDelete({ usernames: [name] });
      await waitForJob(cleaner.queue, job.id as string, 150_000).catch(() => undefined);
    }
    await cleaner.app?.close();
    await events?.close();
    await w?.close();
  });

  it('completes after a restart; the same password works in Kubernetes and Grafana', async () => {
    const env = {
      QUEUE_PREFIX: w.config.QUEUE_PREFIX,
      WORKER_LOCK_DURATION_MS: '3000',
      WORKER_STALLED_INTERVAL_MS: '1000',
      WORKER_CONCURRENCY: '1',
      LOG_LEVEL: 'debug',
    };
    const first = spawnWorker(env, output);
    children.push(first);
    // Kill -9 as soon as the job reports the namespace step: the Keycloak user exists, nothing else.
    const killed = new Promise<string>((resolve) => {
      events.on('progress', ({ jobId, data }) => {
        const progress = jobProgress.safeParse(data);
        if (jobId === `create-${username}` && progress.success && progress.data.step === 'namespace' && first.exitCode === null) {
          first.kill('SIGKILL');
          resolve(progress.data.step);
        }
      });
    });
    const job = await w.addCreate({ username, email: emailOf(username), fullName: 'Crash Test' });
    await killed;
    await exited(first);
    expect(first.signalCode).toBe('SIGKILL');

    // Half-made: the user exists but is not counted as provisioned, the job is not done.
    expect(await job.isCompleted()).toBe(false);
    const halfMade = await findKeycloakUser(username);
    expect(halfMade?.attributes?.provisioned).toBeUndefined();
    const passwordBefore = await w.passwordOf(job);
    expect(passwordBefore).toBeTruthy();

    const second = spawnWorker(env, output);
    children.push(second);
    const { state, job: done } = await waitForJob(w.queue, job.id as string, 120_000);
    expect(state, done.failedReason).toBe('completed');
    const result = createJobResult.parse(done.returnvalue);
    expect(result).toMatchObject({ alreadyProvisioned: false, passwordIssued: true, userId: halfMade?.id });
    expect((await findKeycloakUser(username))?.attributes?.provisioned).toEqual(['true']);
    expect(await getNamespace(username)).toBeDefined();

    const password = await w.passwordOf(done);
    expect(password).toBe(passwordBefore);
    const { idToken } = await oidcLogin(username, password as string);
    expect(await createConfigMapAs(idToken, username, 'after-crash')).toBe(201);
    expect(await eventually('grafana login', async () => ((await grafanaLoginStatus(username, password as string)) === 200 ? true : undefined))).toBe(true);

    // Neither worker process ever logged the password.
    expect(output.join('')).not.toContain(password as string);
    expect(output.join('')).toContain('stalled');
    second.kill('SIGTERM');
    await exited(second);
  });

  it('on SIGTERM lets the active job finish, then exits 0', async () => {
    const env = { QUEUE_PREFIX: w.config.QUEUE_PREFIX, WORKER_CONCURRENCY: '1', WORKER_SHUTDOWN_TIMEOUT_SECONDS: '60' };
    const worker = spawnWorker(env, output);
    children.push(worker);
    const terminated = new Promise<void>((resolve) => {
      events.on('progress', ({ jobId, data }) => {
        if (jobId === `create-${graceful}` && jobProgress.safeParse(data).data?.step === 'namespace' && worker.exitCode === null) {
          worker.kill('SIGTERM');
          resolve();
        }
      });
    });
    const job = await w.addCreate({ username: graceful, email: emailOf(graceful) });
    await terminated;
    await exited(worker);
    expect(worker.exitCode).toBe(0);
    // The job finished before the process left: nothing for another worker to pick up.
    expect(await job.getState()).toBe('completed');
    expect((await findKeycloakUser(graceful))?.attributes?.provisioned).toEqual(['true']);
  });
});
