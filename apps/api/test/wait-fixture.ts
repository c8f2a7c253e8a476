// The API with a fake worker standing in for apps/worker, shared by the `Prefer: wait` tests.
import { UnrecoverableError, type Job } from 'bullmq';
import { createJobResult, deleteJobResult, JOBS, secretKeyOf, type CreateJobResult, type DeleteJobResult } from '@kup/core';
import { buildTestApp, hex, redisReady, type TestApp } from '../../../test/helpers/api-app.js';

/**
 * A fake worker stands in for apps/worker: per username it completes the job with a
 * contract-valid result (and a sealed password, as the worker stores it), fails it with
 * `CODE: message`, or holds it until released.
 */
export type Outcome =
  | { kind: 'created'; password: string; alreadyProvisioned?: boolean }
  | { kind: 'deleted'; found: boolean }
  | { kind: 'fail'; reason: string }
  | { kind: 'hold'; release: Promise<void> };

/** This test file's API (a live binding: set by `startWaitApp`). */
export let t: TestApp;
export const outcomes = new Map<string, Outcome>();
export const processed: string[] = [];

export async function fakeWorker(job: Job): Promise<CreateJobResult | DeleteJobResult> {
  const username: string = job.name === JOBS.create ? job.data.username : job.data.usernames[0];
  processed.push(`${job.id}@${job.timestamp}`);
  const outcome = outcomes.get(username);
  if (!outcome) throw new UnrecoverableError(`TEST_SETUP: no outcome for ${username}`);
  if (outcome.kind === 'hold') await outcome.release;
  if (outcome.kind === 'fail') throw new UnrecoverableError(outcome.reason);
  if (outcome.kind === 'deleted' || job.name === JOBS.delete) {
    // A create's outcome deletes that trainee when a delete comes for it.
    const found = outcome.kind === 'deleted' ? outcome.found : true;
    return deleteJobResult.parse({ username, userId: found ? `kc-${username}` : null, found, removed: { namespace: found, keycloak: found, grafana: found } });
  }
  // As the saga runner reports: each step before it starts, so the last is one short.
  await job.updateProgress({ step: 'finish', done: 8, total: 9 });
  const alreadyProvisioned = outcome.kind === 'created' && outcome.alreadyProvisioned === true;
  if (outcome.kind === 'created' && !alreadyProvisioned) await t.deps.secrets.putIfAbsent(secretKeyOf(job), outcome.password);
  return createJobResult.parse({
    username,
    userId: `kc-${username}`,
    email: job.data.email,
    alreadyProvisioned,
    passwordIssued: !alreadyProvisioned,
    namespace: username,
  });
}

/** Builds this file's API and starts the fake worker on its queue (call in `beforeAll`). */
export async function startWaitApp(): Promise<TestApp> {
  t = await buildTestApp();
  await redisReady(t);
  t.startWorker(fakeWorker);
  return t;
}


export const password = () => `Pw-${hex(12)}!`;
export const newUser = (outcome: Outcome) => {
  const username = `trainee-${hex(4)}`;
  outcomes.set(username, outcome);
  return { username, email: `${username}@example.org` };
};
export const post = (body: object, wait?: string) =>
  t.inject({ method: 'POST', url: '/provisioner', headers: { ...t.auth, ...(wait ? { prefer: wait } : {}) }, payload: body });

