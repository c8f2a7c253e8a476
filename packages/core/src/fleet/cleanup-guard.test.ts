import { describe, expect, it } from 'vitest';
import { FakeIdentity } from '../test-support/fake-ports.js';
import { ConfirmationRequiredError, cleanupNeedsGuard, guardCleanupShare } from './cleanup-guard.js';
import { fleetRunData } from './enqueue-fleet-run.js';
import type { CleanupRunData } from '../queue/fleet-contract.js';

const DAY = 86_400_000;
const now = Date.parse('2026-06-01T00:00:00Z');

function realm() {
  const identity = new FakeIdentity();
  for (let i = 0; i < 8; i++) identity.add({ username: `t-young-${i}`, createdAt: now - 10 * DAY });
  identity.add({ username: 't-old-0', createdAt: now - 400 * DAY });
  identity.add({ username: 't-old-1', createdAt: now - 400 * DAY });
  identity.add({ username: 't-exp-0', createdAt: now - 10 * DAY, expiresAt: new Date(now - DAY).toISOString() });
  identity.add({ username: 't-exp-1', createdAt: now - 10 * DAY, expiresAt: new Date(now - DAY).toISOString() });
  identity.add({ username: 'human', managed: false, createdAt: now - 4000 * DAY });
  return identity;
}
const run = (request: Parameters<typeof fleetRunData>[1], origin = 'api') => fleetRunData('cleanup', request, origin, now) as CleanupRunData;

describe('guardCleanupShare', () => {
  it('lets through a cleanup that deletes at most the share by age (expired trainees do not count)', async () => {
    // 2 of 12 managed trainees by age: 17 % ≤ 20 %.
    await expect(guardCleanupShare(realm(), run({}), { maxShare: 0.2, pageSize: 5 })).resolves.toEqual({ aged: 2, total: 12 });
  });

  it('refuses maxAgeDays 0 (every trainee not already expired) with CONFIRMATION_REQUIRED, naming the counts', async () => {
    const refusal = guardCleanupShare(realm(), run({ maxAgeDays: 0 }), { maxShare: 0.2, pageSize: 5 });
    await expect(refusal).rejects.toBeInstanceOf(ConfirmationRequiredError);
    await expect(refusal).rejects.toMatchObject({ code: 'CONFIRMATION_REQUIRED', retryable: false, message: expect.stringMatching(/delete 10 of 12 trainees by age.*confirmMassDelete/) });
  });

  it('counts within the run\'s usernamePrefix only', async () => {
    await expect(guardCleanupShare(realm(), run({ usernamePrefix: 't-old' }), { maxShare: 0.2, pageSize: 5 })).rejects.toThrow(/2 of 2/);
    await expect(guardCleanupShare(realm(), run({ usernamePrefix: 'nobody' }), { maxShare: 0.2, pageSize: 5 })).resolves.toEqual({ aged: 0, total: 0 });
  });
});

describe('cleanupNeedsGuard', () => {
  it('holds API and CLI runs; not dry runs, confirmed runs, the configured schedule, or a share of 1', () => {
    expect(cleanupNeedsGuard(run({ maxAgeDays: 0 }), 0.2)).toBe(true);
    expect(cleanupNeedsGuard(run({ maxAgeDays: 0 }, 'cli'), 0.2)).toBe(true);
    expect(cleanupNeedsGuard(run({ maxAgeDays: 0, dryRun: true }), 0.2)).toBe(false);
    expect(cleanupNeedsGuard(run({ maxAgeDays: 0, confirmMassDelete: true }), 0.2)).toBe(false);
    expect(cleanupNeedsGuard(run({}, 'schedule'), 0.2)).toBe(false);
    // A scheduler whose data was edited in Redis to delete everyone is held.
    expect(cleanupNeedsGuard(run({ maxAgeDays: 0 }, 'schedule'), 0.2)).toBe(true);
    expect(cleanupNeedsGuard(run({ maxAgeDays: 0 }), 1)).toBe(false);
  });

  it('keeps the confirmation in the run data only when given', () => {
    expect(run({ confirmMassDelete: true })).toMatchObject({ confirmMassDelete: true });
    expect(run({})).not.toHaveProperty('confirmMassDelete');
  });
});
