import type { Job, Queue } from 'bullmq';
import { describe, expect, it } from 'vitest';
import { enqueueCohortCreate, enqueueCohortExpiry } from '../cohort/enqueue-cohort.js';
import { answerOnlySameRequest, DifferentRunPendingError } from '../queue/enqueue-unique.js';
import { enqueueFleetRun, fleetRequestDifferences, fleetRunData, type FleetRequest } from './enqueue-fleet-run.js';
import type { FleetKind } from '../queue/fleet-contract.js';

interface StoredJob {
  id: string;
  name: string;
  data: Record<string, unknown>;
  timestamp: number;
  getState(): Promise<string>;
}

/**
 * A queue as BullMQ behaves for enqueueUnique: an add under a taken id changes nothing (yet
 * answers a job with the caller's data), `getJob` reads back who holds the id. Every call is
 * counted, so a test sees the round trips.
 */
function fakeQueue() {
  const jobs = new Map<string, StoredJob>();
  const calls = { add: 0, getJob: 0, getState: 0 };
  let clock = 1_000;
  const queue = {
    name: 'fleet',
    opts: { prefix: 'test' },
    async add(name: string, data: Record<string, unknown>, options: { jobId: string }) {
      calls.add += 1;
      clock += 1;
      const job: StoredJob = {
        id: options.jobId,
        name,
        data,
        timestamp: clock,
        async getState() {
          calls.getState += 1;
          return 'waiting';
        },
      };
      if (!jobs.has(options.jobId)) jobs.set(options.jobId, job);
      return job;
    },
    async getJob(id: string) {
      calls.getJob += 1;
      return jobs.get(id);
    },
  };
  return { queue: queue as unknown as Queue, jobs, calls };
}

const options = { origin: 'api', jobOptions: {}, redis: {} as never };
const fleet = (queue: Queue, kind: FleetKind, request: FleetRequest) => enqueueFleetRun(queue, kind, request, options);

describe('enqueueFleetRun: a pending run answers only the same request', () => {
  it('a new run costs one add and one read-back, and the same request again is answered', async () => {
    const { queue, calls, jobs } = fakeQueue();
    const first = await fleet(queue, 'reset', { mode: 'purge', usernamePrefix: 'lab' });
    expect(first.created).toBe(true);
    expect(calls).toEqual({ add: 1, getJob: 1, getState: 0 });
    // The default spelled out, or left out, asks the same.
    const again = await fleet(queue, 'reset', { mode: 'purge', usernamePrefix: 'lab' });
    expect(again.created).toBe(false);
    expect(again.job.data.runId).toBe(first.job.data.runId);
    expect((await fleet(queue, 'cleanup', {})).created).toBe(true);
    expect((await fleet(queue, 'cleanup', { maxAgeDays: 365, dryRun: false })).created).toBe(false);
    expect([...jobs.keys()]).toEqual(['reset', 'cleanup']);
  });

  it('a reset of the cohort "abc" is refused (409) while the user "cohort-abc"\'s reset is pending, and the other way round', async () => {
    const { queue, jobs } = fakeQueue();
    const user = await fleet(queue, 'reset', { username: 'cohort-abc' });
    expect(user.job.id).toBe('reset-cohort-abc');
    const refused = fleet(queue, 'reset', { cohort: 'abc' });
    await expect(refused).rejects.toBeInstanceOf(DifferentRunPendingError);
    await expect(refused).rejects.toMatchObject({
      code: 'DIFFERENT_RUN_PENDING',
      jobId: 'reset-cohort-abc',
      differences: ['username: "cohort-abc" pending, none asked', 'cohort: none pending, "abc" asked'],
    });
    expect(jobs.get('reset-cohort-abc')?.data).toMatchObject({ username: 'cohort-abc', runId: user.job.data.runId });
    expect(jobs.get('reset-cohort-abc')?.data).not.toHaveProperty('cohort');

    const other = fakeQueue();
    await fleet(other.queue, 'reset', { cohort: 'abc' });
    await expect(fleet(other.queue, 'reset', { username: 'cohort-abc' })).rejects.toBeInstanceOf(DifferentRunPendingError);
  });

  it('a cleanup dry run is not answered by a pending real cleanup, nor the other way round', async () => {
    const real = fakeQueue();
    await fleet(real.queue, 'cleanup', {});
    await expect(fleet(real.queue, 'cleanup', { dryRun: true })).rejects.toMatchObject({ jobId: 'cleanup', differences: ['dryRun: false pending, true asked'] });
    const dry = fakeQueue();
    await fleet(dry.queue, 'cleanup', { dryRun: true });
    await expect(fleet(dry.queue, 'cleanup', {})).rejects.toMatchObject({ differences: ['dryRun: true pending, false asked'] });
    expect(dry.jobs.get('cleanup')?.data).toMatchObject({ dryRun: true });
  });

  it('another mode, prefix, maxAgeDays or resetPasswords is refused with a message naming it', async () => {
    const { queue } = fakeQueue();
    await fleet(queue, 'reset', {});
    await expect(fleet(queue, 'reset', { mode: 'purge' })).rejects.toThrow(
      'a different reset run is still pending under the id "reset" (mode: "recreate" pending, "purge" asked): nothing was enqueued; try again when it has ended',
    );
    await expect(fleet(queue, 'reset', { usernamePrefix: 'lab' })).rejects.toMatchObject({ differences: ['usernamePrefix: none pending, "lab" asked'] });
    await fleet(queue, 'cleanup', { maxAgeDays: 30 });
    await expect(fleet(queue, 'cleanup', {})).rejects.toMatchObject({ differences: ['maxAgeDays: 30 pending, 365 asked'] });
    await fleet(queue, 'sync', {});
    await expect(fleet(queue, 'sync', { resetPasswords: true })).rejects.toMatchObject({ differences: ['resetPasswords: none pending, true asked'] });
    expect((await fleet(queue, 'sync', { resetPasswords: false })).created).toBe(false);
  });

  it('a finished run under the id is replaced whatever it asked', async () => {
    const policy = answerOnlySameRequest('reset run', (pending) => fleetRequestDifferences('reset', pending, fleetRunData('reset', {}, 'api', Date.now())));
    const purge = { id: 'reset', data: fleetRunData('reset', { mode: 'purge' }, 'api', Date.now()) } as unknown as Job;
    await expect(policy(purge, 'completed')).resolves.toBe('replace');
    await expect(policy(purge, 'failed')).resolves.toBe('replace');
    await expect(policy(purge, 'active')).rejects.toBeInstanceOf(DifferentRunPendingError);
  });
});

describe('cohort enqueues: a pending run answers only the same request', () => {
  const members = [
    { username: 'ana-silva', email: 'ana.silva@school.io', fullName: 'Ana Silva' },
    { username: 'jean-dupont', email: 'jean.dupont@school.io' },
  ];

  it('a corrected trainee list is refused while the first is pending; the same list in another order is answered', async () => {
    const { queue, jobs } = fakeQueue();
    const first = await enqueueCohortCreate(queue, { cohort: 'k8s', members, expiresAt: '2030-01-01T00:00:00Z' }, options);
    expect(first.created).toBe(true);
    const same = await enqueueCohortCreate(queue, { cohort: 'k8s', members: [...members].reverse(), expiresAt: '2030-01-01T00:00:00.000Z' }, options);
    expect(same.created).toBe(false);
    const corrected = [...members, { username: 'emilie-durand', fullName: 'Émilie Durand' }];
    const refused = enqueueCohortCreate(queue, { cohort: 'k8s', members: corrected, expiresAt: '2030-01-01T00:00:00Z' }, options);
    await expect(refused).rejects.toMatchObject({ code: 'DIFFERENT_RUN_PENDING', jobId: 'cohort-create-k8s', differences: ['trainees: another list pending (2 trainees), 3 asked'] });
    await expect(enqueueCohortCreate(queue, { cohort: 'k8s', members, profile: 'large', expiresAt: '2030-01-01T00:00:00Z' }, options)).rejects.toMatchObject({
      differences: ['profile: none pending, "large" asked'],
    });
    expect(jobs.get('cohort-create-k8s')?.data.members).toHaveLength(2);
  });

  it('a cohort expiry change for another date is refused while one is pending', async () => {
    const { queue } = fakeQueue();
    await enqueueCohortExpiry(queue, 'k8s', '2031-01-01T00:00:00Z', options);
    expect((await enqueueCohortExpiry(queue, 'k8s', '2031-01-01T01:00:00+01:00', options)).created).toBe(false);
    await expect(enqueueCohortExpiry(queue, 'k8s', '2032-01-01T00:00:00Z', options)).rejects.toMatchObject({
      jobId: 'cohort-expiry-k8s',
      differences: ['expiresAt: "2031-01-01T00:00:00Z" pending, "2032-01-01T00:00:00Z" asked'],
    });
  });
});
