import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  createJobData,
  createJobId,
  createJobResult,
  defaultJobOptions,
  deleteJobData,
  deleteJobId,
  JOBS,
  QUEUE_OF,
  QUEUES,
} from './contract.js';
import { cleanupJobState, createJobState, deleteJobState, parseJobData, syncJobState } from './job-state.js';

describe('job ids', () => {
  it('are <job>-<username>', () => {
    expect(createJobId('jean-dupont')).toBe('create-jean-dupont');
    expect(deleteJobId('jean-dupont')).toBe('delete-jean-dupont');
  });

  it('never contain `:` (BullMQ refuses it) and differ between create and delete', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/), (name) => {
        expect(createJobId(name)).not.toContain(':');
        expect(deleteJobId(name)).not.toContain(':');
        expect(createJobId(name)).not.toBe(deleteJobId(name));
      }),
    );
  });
});

describe('QUEUE_OF', () => {
  it('puts every job on a known queue', () => {
    const queues = new Set<string>(Object.values(QUEUES));
    for (const name of Object.values(JOBS)) expect(queues.has(QUEUE_OF[name]), name).toBe(true);
    expect(QUEUE_OF[JOBS.create]).toBe(QUEUES.provisioning);
    expect(QUEUE_OF[JOBS.resetUser]).toBe(QUEUES.fleetUser);
  });
});

describe('createJobData', () => {
  it.each([
    { username: 'jean-dupont' },
    { username: 'ana', email: 'a@x.io' },
    { username: 'jean-dupont', email: 'Jean.Dupont@x.io', fullName: 'Jean Dupont', expiresAt: '2027-01-01T00:00:00Z' },
    { username: 'jean-dupont', expiresAt: '2027-01-01T00:00:00+02:00' },
    { username: 'a'.repeat(63) },
    { username: 'emilie-durand', email: 'Émilie.Durand@example.fr' }, // RFC 6531
  ])('accepts %j', (payload) => {
    expect(createJobData.safeParse(payload).success).toBe(true);
  });

  it.each([
    ['no username', {}],
    ['an uppercase username', { username: 'Jean' }],
    ['a username with a leading -', { username: '-jean' }],
    ['a username with a trailing -', { username: 'jean-' }],
    ['a username with a dot', { username: 'jean.dupont' }],
    ['a username of 64 characters', { username: 'a'.repeat(64) }],
    ['an empty username', { username: '' }],
    ['a username of 2 characters (Keycloak wants 3)', { username: 'ab' }],
    ['a bad email', { username: 'jean', email: 'not-an-email' }],
    ['an email Keycloak refuses (local part over 64)', { username: 'jean', email: `${'a'.repeat(65)}@example.org` }],
    ['a full name Keycloak refuses', { username: 'jean', fullName: 'Jean <Dupont>' }],
    ['an empty full name', { username: 'jean', fullName: '' }],
    ['a full name of 201 characters', { username: 'jean', fullName: 'x'.repeat(201) }],
    ['a date without a time', { username: 'jean', expiresAt: '2027-01-01' }],
    ['a username that is not a string', { username: 42 }],
  ])('refuses %s', (_, payload) => {
    expect(createJobData.safeParse(payload).success).toBe(false);
  });

  it('strips unknown fields, so nothing such as a password reaches job data', () => {
    const parsed = createJobData.parse({ username: 'jean', password: 'hunter2-secret' });
    expect(parsed).toEqual({ username: 'jean' });
  });
});

describe('deleteJobData', () => {
  it('takes one or two DNS-label candidates', () => {
    expect(deleteJobData.safeParse({ usernames: ['jean'] }).success).toBe(true);
    expect(deleteJobData.safeParse({ usernames: ['jdupont', 'jean-dupont'] }).success).toBe(true);
  });

  it.each([
    ['no candidate', { usernames: [] }],
    ['three candidates', { usernames: ['a', 'b', 'c'] }],
    ['a bad candidate', { usernames: ['jean', 'Jean Dupont'] }],
    ['no list', {}],
  ])('refuses %s', (_, payload) => {
    expect(deleteJobData.safeParse(payload).success).toBe(false);
  });
});

describe('createJobResult', () => {
  it('has no room for the password', () => {
    const parsed = createJobResult.parse({
      username: 'jean',
      userId: 'u1',
      alreadyProvisioned: false,
      passwordIssued: true,
      namespace: 'jean',
      password: 'leaked-secret',
    });
    expect(parsed).not.toHaveProperty('password');
  });
});

describe('defaultJobOptions', () => {
  it('takes attempts and backoff from the config and removes finished jobs', () => {
    const options = defaultJobOptions({ JOB_ATTEMPTS: 5, JOB_BACKOFF_MS: 1_000 });
    expect(options).toMatchObject({ attempts: 5, backoff: { type: 'exponential', delay: 1_000 } });
    expect(options.removeOnComplete.age).toBeGreaterThan(0);
    expect(options.removeOnFail.age).toBeGreaterThanOrEqual(options.removeOnComplete.age);
  });
});

describe('job state schemas', () => {
  it('accept what the services write', () => {
    const created = { initial: 'absent', owned: { keycloak: true, namespace: true, grafana: false }, creatingAt: 1_700_000_000_000, userId: '6f1c2d3e-0000-4000-8000-000000000001', grafanaUserId: 7, createdAt: '2026-01-01T00:00:00.000Z', expiresAt: '2027-01-01T00:00:00.000Z' };
    expect(parseJobData(createJobData, createJobState, { username: 'jean', state: created })).toEqual({ ok: true, value: { username: 'jean' } });
    expect(parseJobData(deleteJobData, deleteJobState, { usernames: ['jean'], state: { target: { username: 'jean', userId: null }, removed: { namespace: true } } }).ok).toBe(true);
    expect(cleanupJobState.safeParse({ userId: 'u1', reason: 'age', removed: { keycloak: true } }).success).toBe(true);
  });

  it('refuse a tampered state with its own code, the input first', () => {
    expect(parseJobData(deleteJobData, deleteJobState, { usernames: ['jean'], state: { target: { username: 'Not A Label', userId: 'u1' } } })).toMatchObject({
      ok: false,
      code: 'INVALID_JOB_STATE',
      message: expect.stringContaining('state.target.username'),
    });
    expect(parseJobData(createJobData, createJobState, { username: 'x', state: { owned: 1 } })).toMatchObject({ ok: false, code: 'INVALID_INPUT' });
  });

  it('check what sync keeps: which password the recreated Grafana user got, and its id', () => {
    expect(syncJobState.safeParse({ grafanaMissing: true, grafanaPassword: 'current', grafanaUserId: 12 }).success).toBe(true);
    expect(syncJobState.safeParse({ grafanaPassword: 'new-both' }).success).toBe(true);
    // Edited to make the next attempt set a Keycloak password it was not asked to, or to
    // point the rollback at another account: refused.
    expect(syncJobState.safeParse({ grafanaPassword: 'keycloak' }).success).toBe(false);
    expect(syncJobState.safeParse({ grafanaUserId: 'admin' }).success).toBe(false);
    expect(syncJobState.safeParse({ grafanaUserId: 0 }).success).toBe(false);
  });
});
