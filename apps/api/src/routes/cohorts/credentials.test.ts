import { describe, expect, it } from 'vitest';
import { cohortMemberJobId } from '@kup/core';
import { readCohortCredentials, type CredentialsDeps } from './credentials.js';

const members = [{ username: 'ana-silva', email: 'ana.silva@school.io' }, { username: 'jean-dupont', email: 'jean.dupont@school.io' }];

function deps(options: { state?: string; sealed?: Record<string, string> } = {}) {
  const parent = {
    id: 'cohort-create-k8s',
    timestamp: 1,
    progress: { done: 1, total: 2 },
    data: { runId: 'r1', requestedAt: new Date(0).toISOString(), origin: 'api', cohort: 'k8s', members },
    getState: async () => options.state ?? 'completed',
  };
  const child = (username: string) => ({
    id: cohortMemberJobId('memberCreate', 'r1', username),
    timestamp: 2,
    returnvalue: { username, userId: `id-${username}`, email: `${username}@x.io`, alreadyProvisioned: false, passwordIssued: true, namespace: username },
    getState: async () => 'completed',
  });
  const sealed = new Map(Object.entries(options.sealed ?? {}));
  const marks = new Map<string, string>();
  const value: CredentialsDeps = {
    fleet: { getJob: async (id: string) => (id === parent.id ? parent : undefined) } as never,
    fleetUser: { getJob: async (id: string) => members.map((m) => child(m.username)).find((c) => c.id === id) } as never,
    secrets: { get: async (key: string) => sealed.get(key), remove: async (key: string) => void sealed.delete(key) },
    redis: {
      set: (async (key: string, v: string) => {
        const held = marks.get(key);
        if (held === undefined) marks.set(key, v);
        return held ?? null;
      }) as never,
      del: (async (key: string) => Number(marks.delete(key))) as never,
    },
    prefix: 'kup',
  };
  return { value, sealed };
}

const keyOf = (username: string) => `${cohortMemberJobId('memberCreate', 'r1', username)}-2`;

describe('readCohortCredentials', () => {
  it('answers the CSV once, then 410 saying when they were read', async () => {
    const { value, sealed } = deps({ sealed: { [keyOf('ana-silva')]: 'pw-ana', [keyOf('jean-dupont')]: 'pw-jean' } });
    const csv = await readCohortCredentials(value, 'k8s');
    expect(csv.trim().split('\n')).toEqual(['username,email,password,namespace', 'ana-silva,ana-silva@x.io,pw-ana,ana-silva', 'jean-dupont,jean-dupont@x.io,pw-jean,jean-dupont']);
    expect(sealed.size).toBe(0);
    await expect(readCohortCredentials(value, 'k8s')).rejects.toMatchObject({ statusCode: 410, code: 'CREDENTIALS_GONE', message: expect.stringMatching(/already read/) });
  });

  it('says the credentials expired when none is left unread', async () => {
    const { value } = deps();
    await expect(readCohortCredentials(value, 'k8s')).rejects.toMatchObject({ statusCode: 410, message: expect.stringMatching(/expired/) });
  });

  it('is a 409 while the cohort is being created, and a 404 for a cohort nobody made', async () => {
    await expect(readCohortCredentials(deps({ state: 'waiting-children' }).value, 'k8s')).rejects.toMatchObject({ statusCode: 409, code: 'COHORT_PENDING' });
    await expect(readCohortCredentials(deps().value, 'other')).rejects.toMatchObject({ statusCode: 404, code: 'COHORT_NOT_FOUND' });
  });
});
