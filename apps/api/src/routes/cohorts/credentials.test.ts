import Fastify from 'fastify';
import { serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import { describe, expect, it } from 'vitest';
import { cohortMemberJobId } from '@kup/core';
import { registerErrorHandler } from '../../plugins/error-handler.js';
import { readCohortCredentials, type CredentialsDeps } from './credentials.js';
import { cohortRoutes } from './index.js';

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

describe('GET /cohorts/:name/credentials', () => {
  it('has no HEAD (Fastify\'s default runs the GET): a HEAD takes nothing, the GET after it still gets the CSV', async () => {
    const { value, sealed } = deps({ sealed: { [keyOf('ana-silva')]: 'pw-ana', [keyOf('jean-dupont')]: 'pw-jean' } });
    const app = Fastify();
    app.setValidatorCompiler(validatorCompiler);
    app.setSerializerCompiler(serializerCompiler);
    registerErrorHandler(app);
    // Not spread whole: Fastify reads a `prefix` option as the routes' path prefix.
    await app.register(cohortRoutes, {
      fleet: value.fleet as never,
      fleetUser: value.fleetUser as never,
      redis: value.redis as never,
      secrets: value.secrets,
      queuePrefix: value.prefix,
      queries: { ask: async () => ({}) } as never,
      shutdown: new AbortController().signal,
      guard: { run: (fn) => fn() },
      jobOptions: {},
      maxTrainees: 500,
      reservedNamespaces: [],
      bodyLimit: 1_048_576,
    });
    const head = await app.inject({ method: 'HEAD', url: '/cohorts/k8s/credentials' });
    expect(head.statusCode).toBe(404);
    expect(sealed.size).toBe(2);
    const get = await app.inject({ method: 'GET', url: '/cohorts/k8s/credentials' });
    expect(get.statusCode, get.body).toBe(200);
    expect(get.body).toContain('ana-silva,ana-silva@x.io,pw-ana,ana-silva');
    expect(sealed.size).toBe(0);
    await app.close();
  });
});
