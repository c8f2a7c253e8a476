import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { oldUsernames } from '../../../packages/core/test/fixtures/old-usernames.js';
import { buildTestApp, redisReady, type TestApp } from './helpers.js';

// No worker consumes these queues: the username the API derives is in its 202 answer and
// in the queued job, which is all this looks at.
let t: TestApp;
beforeAll(async () => {
  t = await buildTestApp();
  await redisReady(t);
});
afterAll(async () => t?.close());

// TEMP-EMAIL: email rows join once the API accepts internationalized addresses.
const rows = oldUsernames().filter((row) => row.field === 'full_name');

describe('the API derives the old service\'s username for every row of old-usernames.tsv', () => {
  it.each(rows)('DELETE /provisioner $field $input → $expected', async ({ field, input, expected }) => {
    const res = await t.inject({ method: 'DELETE', url: '/provisioner', headers: t.auth, payload: { [field]: input } });
    if (expected === '') {
      expect(res.statusCode).toBe(400);
      expect(res.json().code).toBe('INVALID_USERNAME');
      return;
    }
    expect(res.statusCode, res.body).toBe(202);
    expect(res.json().username).toBe(expected);
  });

  // Create also keeps our own rule on top: Keycloak wants at least 3 characters.
  it.each(rows.filter((row) => row.expected.length >= 3))('POST /provisioner $field $input → $expected', async ({ field, input, expected }) => {
    const res = await t.inject({ method: 'POST', url: '/provisioner', headers: t.auth, payload: { [field]: input } });
    expect(res.statusCode, res.body).toBe(202);
    expect(res.json().username).toBe(expected);
  });

  it.each(rows.filter((row) => row.expected.length > 0 && row.expected.length < 3))(
    'POST /provisioner $field $input refuses "$expected", too short for a new Keycloak user',
    async ({ field, input }) => {
      const res = await t.inject({ method: 'POST', url: '/provisioner', headers: t.auth, payload: { [field]: input } });
      expect(res.statusCode).toBe(400);
      expect(res.json()).toMatchObject({ code: 'INVALID_INPUT', message: expect.stringMatching(/at least 3 characters/) });
    },
  );
});
