// P6 cohort: N trainees made as one cohort (POST /cohorts, one flow) vs the same number made
// by N single creates (POST /provisioner each), in the same run, by the same API and worker
// processes, with the same concurrency for both kinds of job. Time = from the first request
// to the last trainee done. Everything is deleted afterwards (DELETE /cohorts/:name, then
// DELETE /provisioner for each single).
import { fetch } from 'undici';
import { dropPrefix, env, eventually, freePort, round, startChild } from './lib.js';

export interface CohortFigures {
  trainees: number;
  concurrency: number;
  cohortSeconds: number;
  singleSeconds: number;
  cohortFailed: number;
  singleFailed: number;
}

export async function benchCohort(tag: string, count: number, concurrency: number, log: (line: string) => void): Promise<CohortFigures> {
  const prefix = `bench-p6-${tag}`;
  const token = env('API_TOKENS').split(',')[0] as string;
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const limits = { COHORT_MAX_TRAINEES: String(Math.max(500, count)) };
  const api = await startChild('apps/api/dist/main.js', { PORT: String(port), HOST: '127.0.0.1', QUEUE_PREFIX: prefix, ...limits }, /listening/i, 'p6-api');
  const worker = await startChild(
    'apps/worker/dist/main.js',
    { QUEUE_PREFIX: prefix, WORKER_CONCURRENCY: String(concurrency), FLEET_CONCURRENCY: String(concurrency), WORKER_HEALTH_PORT: '0' },
    /worker started/,
    'p6-worker',
  );
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${base}${path}`, { method, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, ...(body ? { body: JSON.stringify(body) } : {}) });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  const ended = async (jobId: string) =>
    eventually(`${jobId} ended`, async () => {
      const { body } = await call('GET', `/jobs/${jobId}`);
      return body.state === 'completed' || body.state === 'failed' ? body : undefined;
    }, Math.max(600_000, count * 20_000), 250);
  const cohort = `${tag}-p6`;
  const singles = Array.from({ length: count }, (_, i) => `${tag}-p6s-${i}`);
  const members = Array.from({ length: count }, (_, i) => `${tag}-p6c-${i}`);

  const warmup = Array.from({ length: concurrency }, (_, i) => `${tag}-p6w-${i}`);
  const createSingles = async (usernames: readonly string[]) => {
    for (const username of usernames) {
      const { status } = await call('POST', '/provisioner', { email: `${username}@bench.example` });
      if (status !== 202) throw new Error(`create ${username}: ${status}`);
    }
    let failed = 0;
    for (const username of usernames) if ((await ended(`create-${username}`)).state === 'failed') failed += 1;
    return failed;
  };

  try {
    // Untimed, as P2's: the first creates of a fresh worker (and a cold Keycloak) would count against the singles.
    await createSingles(warmup);
    log(`P6   ${count} single creates…`);
    let started = performance.now();
    const singleFailed = await createSingles(singles);
    const singleSeconds = (performance.now() - started) / 1000;

    log(`P6   one cohort of ${count}…`);
    started = performance.now();
    const made = await call('POST', '/cohorts', { name: cohort, trainees: members.map((m) => ({ email: `${m}@bench.example` })) });
    if (made.status !== 202) throw new Error(`cohort: ${made.status} ${JSON.stringify(made.body)}`);
    const result = (await ended(made.body.jobId as string)).result as { failures?: unknown[] } | undefined;
    const cohortSeconds = (performance.now() - started) / 1000;

    log('P6   deleting…');
    const removed = await call('DELETE', `/cohorts/${cohort}`);
    for (const username of [...warmup, ...singles]) await call('DELETE', '/provisioner', { email: `${username}@bench.example` });
    await ended(removed.body.jobId as string);
    for (const username of [...warmup, ...singles]) await ended(`delete-${username}`);
    return { trainees: count, concurrency, cohortSeconds: round(cohortSeconds, 2), singleSeconds: round(singleSeconds, 2), cohortFailed: result?.failures?.length ?? count, singleFailed };
  } finally {
    await worker.stop();
    await api.stop();
    await dropPrefix(prefix);
  }
}
