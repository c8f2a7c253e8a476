import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { emailAddressProblem } from '@kup/core';
import { oldUsernames, type OldUsernameRow } from '../../../packages/core/test/fixtures/old-usernames.js';
import { buildTestApp, redisReady, type TestApp } from '../../../test/helpers/api-app.js';

// No worker consumes these queues: the username the API derives is in its 202 answer and
// in the queued job, which is all this looks at.
let t: TestApp;
beforeAll(async () => {
  t = await buildTestApp();
  await redisReady(t);
});
afterAll(async () => t?.close());
// Several rows give one username for different people (an email and a full name): each row
// is a new request, not a second trainee claiming a name that a queued job already holds
// (that is a 409 USERNAME_CONFLICT, tested in provisioner.test.ts).
afterEach(async () => {
  await t.deps.queues.provisioning.drain(true);
});

const rows = oldUsernames();

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

  // Create keeps our own rules on top: Keycloak wants at least 3 characters, and an address
  // whose local part is a dot-atom (it answers `error-invalid-email` to `first..last@…`).
  const creatable = (row: OldUsernameRow) => row.field === 'full_name' || emailAddressProblem(row.input, true) === undefined;
  it.each(rows.filter((row) => row.expected.length >= 3 && creatable(row)))('POST /provisioner $field $input → $expected', async ({ field, input, expected }) => {
    const res = await t.inject({ method: 'POST', url: '/provisioner', headers: t.auth, payload: { [field]: input } });
    expect(res.statusCode, res.body).toBe(202);
    expect(res.json().username).toBe(expected);
  });

  it.each(rows.filter((row) => !creatable(row)))('POST /provisioner $field $input is refused: Keycloak would refuse the address', async ({ field, input }) => {
    const before = await t.jobCount();
    const res = await t.inject({ method: 'POST', url: '/provisioner', headers: t.auth, payload: { [field]: input } });
    expect(res.statusCode).toBe(400);
    expect(JSON.stringify(res.json().details)).toMatch(/not a valid email address: it has a part before the @ that is not a dot-atom/);
    expect(await t.jobCount()).toBe(before);
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
