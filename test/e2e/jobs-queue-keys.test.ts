// GET /jobs/:id with an id that is one of BullMQ's own keys of a queue (its meta hash, event
// stream, state lists) answers 404 as any unknown job does, not a 500 from reading that key
// as a job; a real job is still found.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createJobId } from '@kup/core';
import { buildTestApp, hex, redisReady, type TestApp } from '../helpers/api-app.js';

describe('API: GET /jobs/:id and the queues\' own keys', () => {
  let t: TestApp;
  const username = `t-jk-${hex(6)}`;

  beforeAll(async () => {
    t = await buildTestApp();
    await redisReady(t);
    // A waiting create (no worker): the queue now has its meta hash, event stream, wait list and id counter.
    const created = await t.inject({ method: 'POST', url: '/provisioner', headers: t.auth, payload: { email: `${username}@school.io` } });
    expect(created.statusCode, created.body).toBe(202);
  });
  afterAll(async () => {
    await t?.close();
  });

  it('answers 404 JOB_NOT_FOUND for meta, events, wait, id and the other state keys', async () => {
    const prefix = `${t.config.QUEUE_PREFIX}:provisioning:`;
    const keys = (await t.deps.redis.keys(`${prefix}*`)).map((key) => key.slice(prefix.length));
    expect(keys).toEqual(expect.arrayContaining(['meta', 'events', 'wait', 'id']));
    const ids = ['meta', 'events', 'wait', 'id', 'completed', 'failed', 'active', 'delayed', 'paused', 'prioritized', 'waiting-children', 'stalled-check', 'marker'];
    const answers: Record<string, string> = {};
    for (const id of ids) {
      const res = await t.inject({ method: 'GET', url: `/jobs/${id}`, headers: t.auth });
      answers[id] = `${res.statusCode} ${res.body}`;
    }
    const notFound = `404 ${JSON.stringify({ message: 'Job not found', code: 'JOB_NOT_FOUND' })}`;
    expect(answers).toEqual(Object.fromEntries(ids.map((id) => [id, notFound])));
  });

  it('still finds a real job', async () => {
    const res = await t.inject({ method: 'GET', url: `/jobs/${createJobId(username)}`, headers: t.auth });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ id: createJobId(username), type: 'create', state: 'waiting' });
  });
});
