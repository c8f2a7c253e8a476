import { describe, expect, it } from 'vitest';
import { FakeIdentity } from '../test-support/fake-ports.js';
import { fleetChildJobId, fleetRunJobId, parseFleetChildId, type FanOutState } from '../queue/fleet-contract.js';
import { aggregateCleanup, aggregateReset, aggregateSync, failuresFromReasons } from './aggregate.js';
import { fleetRunData } from './enqueue-fleet-run.js';
import { cleanupReason, matchesPrefix } from './fleet-context.js';
import { fanOut, initialFanOut, type ChildSink } from './fan-out.js';

const DAY = 86_400_000;

/** As the worker's sink: `added` holds the children, `seen` every username a page showed. */
function seenSink(onAdd: (names: string[]) => void = () => undefined): ChildSink & { added: Set<string>; seen: Set<string> } {
  const added = new Set<string>();
  const seen = new Set<string>();
  return {
    added,
    seen,
    unseen: async (names) => names.filter((n) => !seen.has(n)),
    addNew: async (names, _listed, others = []) => {
      const fresh = names.filter((n) => !seen.has(n));
      for (const n of [...fresh, ...others]) seen.add(n);
      for (const n of fresh) added.add(n);
      onAdd(fresh);
      return fresh.length;
    },
  };
}

describe('fanOut', () => {
  it('pages through the managed users with the filter, saving its place after each page', async () => {
    const identity = new FakeIdentity();
    for (let i = 0; i < 7; i++) identity.add({ username: `t-${i}` });
    identity.add({ username: 'other' });
    identity.add({ username: 'human', managed: false });
    const sink = seenSink();
    const saved: FanOutState[] = [];
    const end = await fanOut(identity, initialFanOut(), sink, {
      pageSize: 3,
      maxPasses: 3,
      select: (u) => matchesPrefix(u.username, 't-'),
      save: async (s) => void saved.push(s),
    });
    expect([...sink.added].sort()).toEqual(['t-0', 't-1', 't-2', 't-3', 't-4', 't-5', 't-6']);
    expect(end).toMatchObject({ step: 'wait-children', added: 7, pass: 2 });
    expect(saved.length).toBeGreaterThanOrEqual(6);
    // 3 pages in full, then the second pass by usernames only: nobody on them was new.
    expect(identity.calls.filter((c) => c === 'listManaged').length).toBe(3);
    expect(identity.calls.filter((c) => c === 'listManagedNames').length).toBe(3);
  });

  it('reads a later page in full only when a username on it is new to the run', async () => {
    const identity = new FakeIdentity();
    for (let i = 0; i < 6; i++) identity.add({ username: `n-${i}` });
    // Someone adds a trainee at the front while the first pass pages: the offsets shift by one.
    let late = false;
    const sink = seenSink(() => {
      if (late) return;
      late = true;
      const before = [...identity.users];
      identity.users.clear();
      identity.add({ username: 'n-00' });
      for (const [id, user] of before) identity.users.set(id, user);
    });
    await fanOut(identity, initialFanOut(), sink, { pageSize: 3, maxPasses: 3, select: () => true, save: async () => undefined });
    expect([...sink.added].sort()).toEqual(['n-0', 'n-00', 'n-1', 'n-2', 'n-3', 'n-4', 'n-5']);
    // Three full pages, then only the one that showed n-00 again in full.
    expect(identity.calls.filter((c) => c === 'listManaged').length).toBe(4);
  });

  it('walks every pass in full when the listing cannot give usernames alone (a cohort group)', async () => {
    const identity = new FakeIdentity();
    for (let i = 0; i < 4; i++) identity.add({ username: `g-${i}` });
    const listing = { listManaged: identity.listManaged.bind(identity) };
    const sink = seenSink();
    await fanOut(listing, initialFanOut(), sink, { pageSize: 3, maxPasses: 3, select: () => true, save: async () => undefined });
    expect(sink.added.size).toBe(4);
    expect(identity.calls.filter((c) => c === 'listManaged').length).toBe(4);
  });

  it('finds every user although children delete them while it pages (shifting offsets)', async () => {
    const identity = new FakeIdentity();
    for (let i = 0; i < 10; i++) identity.add({ username: `u-${i}` });
    const sink = seenSink((fresh) => {
      for (const n of fresh) identity.users.delete(identity.byName(n)!.id);
    });
    const end = await fanOut(identity, initialFanOut(), sink, { pageSize: 3, maxPasses: 10, select: () => true, save: async () => undefined });
    expect(sink.added.size).toBe(10);
    expect(identity.users.size).toBe(0);
    expect(end.step).toBe('wait-children');
  });

  it('resumes from a saved state instead of starting over', async () => {
    const identity = new FakeIdentity();
    for (let i = 0; i < 6; i++) identity.add({ username: `r-${i}` });
    const sink = seenSink();
    await fanOut(identity, { step: 'fan-out', pass: 2, cursor: 3, addedThisPass: 0, added: 3 }, sink, {
      pageSize: 3,
      maxPasses: 2,
      select: () => true,
      save: async () => undefined,
    });
    expect([...sink.added]).toEqual(['r-3', 'r-4', 'r-5']);
  });
});

describe('cleanupReason', () => {
  const now = Date.parse('2026-12-31T00:00:00Z');
  it('age: created maxAgeDays or more before now; 0 days means everyone', () => {
    expect(cleanupReason({ createdAt: now - 366 * DAY, expiresAt: undefined }, now, 365)).toBe('age');
    expect(cleanupReason({ createdAt: now - 10 * DAY, expiresAt: undefined }, now, 365)).toBeUndefined();
    expect(cleanupReason({ createdAt: now - 1, expiresAt: undefined }, now, 0)).toBe('age');
  });
  it('expired: expires-at in the past wins; a bad date is ignored', () => {
    expect(cleanupReason({ createdAt: now, expiresAt: '2026-01-01T00:00:00Z' }, now, 365)).toBe('expired');
    expect(cleanupReason({ createdAt: now, expiresAt: '2027-01-01T00:00:00Z' }, now, 365)).toBeUndefined();
    expect(cleanupReason({ createdAt: now, expiresAt: 'garbage' }, now, 365)).toBeUndefined();
  });
});

describe('ids and run data', () => {
  it('parent ids are fixed per kind (and user); child ids carry run and user and no colon', () => {
    expect(fleetRunJobId('reset')).toBe('reset');
    expect(fleetRunJobId('reset', 'ana')).toBe('reset-ana');
    const id = fleetChildJobId('reset', 'abc123', 'jean-dupont');
    expect(id).toBe('reset-user-abc123-jean-dupont');
    expect(id).not.toContain(':');
    expect(parseFleetChildId(`kup:fleet-user:${id}`)).toEqual({ child: 'reset-user', runId: 'abc123', username: 'jean-dupont' });
    expect(parseFleetChildId('create-ana')).toBeUndefined();
  });

  it('defaults are fixed at enqueue time', () => {
    const now = Date.parse('2026-11-25T00:00:00Z');
    expect(fleetRunData('reset', {}, 'api', now)).toMatchObject({ mode: 'recreate', origin: 'api', requestedAt: '2026-11-25T00:00:00.000Z' });
    expect(fleetRunData('cleanup', {}, 'schedule', now)).toMatchObject({ maxAgeDays: 365, dryRun: false });
    expect(fleetRunData('sync', { username: 'ana' }, 'cli', now)).toMatchObject({ username: 'ana' });
    expect(fleetRunData('reset', {}, 'api', now).runId).toMatch(/^[a-z0-9]+$/);
  });
});

describe('aggregation into the old statistics', () => {
  const failures = failuresFromReasons({
    'kup:fleet-user:reset-user-r1-bob': 'KUBERNETES_ERROR: kubernetes delete namespace answered 500',
    'kup:fleet-user:reset-user-r1-cid': 'something odd',
  });

  it('reads code and message from failed reasons', () => {
    expect(failures).toEqual([
      { username: 'bob', code: 'KUBERNETES_ERROR', message: 'kubernetes delete namespace answered 500' },
      { username: 'cid', code: 'INTERNAL', message: 'something odd' },
    ]);
  });

  it('prefers the failure a child stored in its data while it is the child\'s last one', () => {
    const reason = 'TIMEOUT: namespace deletion did not happen within 120 s';
    const stored = { code: 'TIMEOUT', message: 'namespace deletion did not happen within 120 s' };
    const read = failuresFromReasons({ 'kup:fleet-user:sync-user-r1-dan': reason, 'kup:fleet-user:sync-user-r1-eve': 'job stalled more than allowable limit' }, (key) => ({
      username: key.endsWith('dan') ? 'dan' : 'eve',
      failure: stored,
    }));
    expect(read).toEqual([
      { username: 'dan', ...stored },
      { username: 'eve', code: 'INTERNAL', message: 'job stalled more than allowable limit' },
    ]);
  });

  it('reset', () => {
    const result = aggregateReset(
      {
        values: [
          { username: 'ana', reset: true, mode: 'recreate' },
          { username: 'gone', reset: false, mode: 'recreate', skipped: 'not a provisioned user' },
        ],
        failures,
      },
      'recreate',
    );
    expect(result).toMatchObject({ users_processed: 3, namespaces_reset: 1, failed_resets: ['bob', 'cid'] });
    expect(result.failures[0]?.code).toBe('KUBERNETES_ERROR');
    // The old service's sentence, word for word; the numbers are in `summary`.
    expect(result.message).toBe('All provisioned namespaces have been reset successfully');
    expect(result.summary).toBe('Reset (recreate) finished: 1 of 3 namespaces reset, 2 failed');
    const one = aggregateReset({ values: [{ username: 'ana', reset: true, mode: 'purge' }], failures: [] }, 'purge', 'ana');
    expect(one.message).toBe('Namespace for user ana has been reset successfully');
  });

  it('cleanup, real and dry', () => {
    const values = [
      { username: 'old', userId: 'u1', deleted: true, dryRun: false, reason: 'age' as const },
      { username: 'young', userId: 'u2', deleted: false, dryRun: false, skipped: 'neither old nor expired' },
    ];
    expect(aggregateCleanup({ values, failures: [] }, false)).toMatchObject({
      message: 'Cleanup completed',
      deleted_users: [{ username: 'old', user_id: 'u1' }],
      total_processed: 1,
      successfully_deleted: 1,
      failed: 0,
      dry_run: false,
    });
    const dry = aggregateCleanup({ values: [{ username: 'old', userId: 'u1', deleted: false, dryRun: true, reason: 'age' }], failures: [] }, true);
    expect(dry).toMatchObject({ deleted_users: [{ username: 'old', user_id: 'u1' }], successfully_deleted: 0, dry_run: true });
    expect(dry.message).toMatch(/nothing changed/);
  });

  it('cleanup keeps failed_deletions a list of usernames, the reasons in failures', () => {
    const result = aggregateCleanup({ values: [], failures }, false);
    expect(result.failed_deletions).toEqual(['bob', 'cid']);
    expect(result.failures).toEqual(failures);
    expect(result).toMatchObject({ message: 'Cleanup completed', failed: 2, total_processed: 2, summary: expect.stringMatching(/2 failed/) });
  });

  it('sync', () => {
    const base = { fixedGrafana: false, fixedNamespace: false, fixedProvisioned: false, rolledBack: false, passwordIssued: false };
    const result = aggregateSync(
      {
        values: [
          { ...base, username: 'ana', fixedGrafana: true, passwordIssued: true, grafanaPasswordReset: true, keycloakPasswordReset: false },
          { ...base, username: 'fine' },
          { ...base, username: 'half', rolledBack: true, error: 'GRAFANA_ERROR: 412' },
        ],
        failures: [],
      },
      (u) => `sync-user-r1-${u}`,
    );
    expect(result.message).toBe('Sync completed for all users');
    expect(aggregateSync({ values: [{ ...base, username: 'ana' }], failures: [] }, (u) => u, 'ana').message).toBe('Sync completed for user ana');
    expect(result.results).toEqual({
      total_users: 3,
      fixed_users: [
        {
          username: 'ana',
          fixed_grafana: true,
          fixed_namespace: false,
          fixed_provisioned: false,
          grafana_password_reset: true,
          keycloak_password_reset: false,
          password_job_id: 'sync-user-r1-ana',
        },
      ],
      failed_fixes: [{ username: 'half', error: 'rolled back, could not be finished: GRAFANA_ERROR: 412' }],
    });
  });
});
