import { describe, expect, it } from 'vitest';
import { WebhookEmitter, emitTraineeExpired } from './emitter.js';
import { scanExpiring, expiringNoticeKey } from './expiring-scan.js';
import type { IdentityUser } from '../ports/identity-provider.js';

type Added = { name: string; data: { subscription: string; event: { id: string; type: string; data: Record<string, unknown> } }; opts: { jobId: string } };

function fakeQueue() {
  const added: Added[] = [];
  const ids = new Set<string>();
  return {
    added,
    // BullMQ ignores an add whose id exists: so does the fake.
    addBulk: async (jobs: unknown[]) => {
      for (const job of jobs as Added[]) if (!ids.has(job.opts.jobId)) (ids.add(job.opts.jobId), added.push(job));
      return [];
    },
  };
}

const subs = [
  { id: 'lms', url: 'https://lms.example/h', secret: 'whsec_x', events: ['trainee.created' as const, 'trainee.expiring' as const] },
  { id: 'ops', url: 'https://ops.example/h', secret: 'whsec_y', events: ['job.failed' as const, 'trainee.created' as const] },
];

describe('WebhookEmitter', () => {
  it('adds one delivery per subscription wanting the event, naming it by id, without its secret or URL', async () => {
    const queue = fakeQueue();
    const emitter = new WebhookEmitter(queue, subs, { attempts: 3 }, () => new Date('2026-01-01T00:00:00Z'));
    await emitter.traineeCreated({ id: 'create-ana', timestamp: 42 }, { username: 'ana', namespace: 'ana', email: 'ana@x.io', expiresAt: '2027-01-01T00:00:00Z' });
    expect(queue.added.map((j) => j.data.subscription)).toEqual(['lms', 'ops']);
    expect(queue.added[0]?.data.event).toEqual({
      id: 'msg_trainee_created_create-ana_42',
      type: 'trainee.created',
      timestamp: '2026-01-01T00:00:00.000Z',
      data: { username: 'ana', namespace: 'ana', email: 'ana@x.io', expiresAt: '2027-01-01T00:00:00Z', jobId: 'create-ana' },
    });
    expect(queue.added[0]?.opts).toMatchObject({ attempts: 3, jobId: 'msg_trainee_created_create-ana_42.lms' });
    expect(JSON.stringify(queue.added)).not.toMatch(/whsec_|example\/h/);
  });

  it('emits the same event once however often it is told, and nothing nobody wants', async () => {
    const queue = fakeQueue();
    const emitter = new WebhookEmitter(queue, subs, {});
    await emitter.traineeCreated({ id: 'create-ana', timestamp: 42 }, { username: 'ana' });
    await emitter.traineeCreated({ id: 'create-ana', timestamp: 42 }, { username: 'ana' });
    expect(queue.added).toHaveLength(2);
    expect(await emitter.traineeDeleted({ id: 'delete-ana', timestamp: 1 }, { username: 'ana' })).toBeUndefined();
    expect(await emitTraineeExpired(emitter, { username: 'ana', expiresAt: '2027-01-01T00:00:00Z' })).toBeUndefined();
    expect(queue.added).toHaveLength(2);
    expect(emitter.wants('trainee.deleted')).toBe(false);
    expect(emitter.wants('job.failed')).toBe(true);
  });
});

describe('scanExpiring', () => {
  const now = Date.parse('2026-06-01T00:00:00Z');
  const user = (username: string, expiresAt: string | undefined, provisioned = true): IdentityUser => ({
    id: username, username, email: `${username}@x.io`, enabled: true, managed: true, provisioned, expiresAt, createdAt: 0,
  });
  const users = [
    user('soon', '2026-06-02T00:00:00Z'),
    user('later', '2026-06-10T00:00:00Z'),
    user('past', '2026-05-31T00:00:00Z'),
    user('half-made', '2026-06-02T00:00:00Z', false),
    user('never', undefined),
    user('edge', '2026-06-04T00:00:00Z'),
  ];
  const identity = {
    listManaged: async (first: number, max: number) => ({ users: users.slice(first, first + max), next: first + max < users.length ? first + max : undefined }),
  };

  it('tells each trainee entering the window once per expiry value, across pages', async () => {
    const keys = new Map<string, number>();
    const redis = {
      exists: async (key: string) => (keys.has(key) ? 1 : 0),
      set: async (key: string, _v: string, _ex: 'EX', ttl: number) => (keys.set(key, ttl), 'OK' as const),
    };
    const told: string[] = [];
    const emitter = { traineeExpiring: async (t: { username: string }) => (told.push(t.username), undefined) };
    const deps = { identity, redis: redis as never, emitter, prefix: 'p', aheadSeconds: 72 * 3600, pageSize: 2 };
    expect(await scanExpiring(deps, now)).toEqual({ scanned: 6, notified: 2 });
    expect(told).toEqual(['soon', 'edge']);
    expect(keys.get(expiringNoticeKey('p', 'soon', '2026-06-02T00:00:00Z'))).toBe(86_400 + 86_400);
    expect(await scanExpiring(deps, now + 3600_000)).toEqual({ scanned: 6, notified: 0 });
    // A new expiry is a new notice.
    users[0] = user('soon', '2026-06-03T00:00:00Z');
    expect(await scanExpiring(deps, now + 3600_000)).toEqual({ scanned: 6, notified: 1 });
    expect(told).toEqual(['soon', 'edge', 'soon']);
  });
});
