import { describe, expect, it } from 'vitest';
import { createdTrainee, finalFailure } from './webhooks.js';

const created = { username: 'ana', userId: 'u1', email: 'ana@x.io', alreadyProvisioned: false, passwordIssued: true, namespace: 'ana' };

describe('webhook event points', () => {
  it('trainee.created: a new trainee, with the expiry the create settled on; nothing for one already there', () => {
    const job = { data: { username: 'ana', state: { expiresAt: '2027-01-01T00:00:00.000Z' } } };
    expect(createdTrainee(job, created)).toEqual({ username: 'ana', namespace: 'ana', email: 'ana@x.io', expiresAt: '2027-01-01T00:00:00.000Z' });
    expect(createdTrainee(job, { ...created, alreadyProvisioned: true, passwordIssued: false })).toBeUndefined();
    expect(createdTrainee(job, { unexpected: true })).toBeUndefined();
  });

  it('job.failed: only when BullMQ gives up, naming the trainee of a create or a delete', () => {
    const job = { id: 'create-ana', timestamp: 1, name: 'create', attemptsMade: 1, failedReason: 'KEYCLOAK_UNREACHABLE: down', data: { username: 'ana' } };
    expect(finalFailure({ ...job, finishedOn: undefined }, 'provisioning')).toBeUndefined();
    expect(finalFailure({ ...job, finishedOn: 5 }, 'provisioning')).toEqual({
      id: 'create-ana', timestamp: 1, queue: 'provisioning', name: 'create', attemptsMade: 1, reason: 'KEYCLOAK_UNREACHABLE: down', username: 'ana',
    });
    expect(finalFailure({ ...job, name: 'delete', finishedOn: 5, data: { usernames: ['bob', 'b'] } }, 'provisioning')?.username).toBe('bob');
    expect(finalFailure({ ...job, name: 'sync', finishedOn: 5, data: { runId: 'r' } }, 'fleet')?.username).toBeUndefined();
  });
});
