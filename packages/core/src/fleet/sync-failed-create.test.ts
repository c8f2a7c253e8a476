// Sync rolling back a user whose create failed for good without reaching Grafana to undo:
// the account that create made goes too, and only that one.
import { describe, expect, it } from 'vitest';
import { UpstreamError } from '../errors.js';
import { memoryJobState, type CreateState, type StepContext } from '../provisioning/step-context.js';
import { build, context as createContext, expectComplete, input, silent } from '../test-support/create-fixture.js';
import { SyncUserService, failedCreateRecord, type SyncState } from './sync-user.service.js';
import { fleetSettings } from '../test-support/fleet-fixture.js';

const settings = fleetSettings;

function syncContext(): StepContext<SyncState> {
  return { jobKey: 'sync-1', password: async () => 'Fresh-Pass-1234567890', state: memoryJobState<SyncState>(), progress: async () => undefined, log: silent as never };
}

/**
 * A create that takes over a half-made user, makes the Grafana account, then fails for good
 * (Grafana refuses the role); its rollback cannot reach Grafana. Left: the Keycloak user (not
 * the job's to remove) and the account, which Keycloak does not record (`none` until `finish`).
 */
async function failedCreate() {
  const { sut, fakes } = build();
  const user = fakes.identity.add({ username: input.username, email: input.email, fullName: input.fullName, grafanaUserId: null });
  fakes.grafana.failOn('setOrgRole', new UpstreamError('grafana', 'set role', 400));
  const { ctx, state } = createContext();
  await expect(sut.create(input, ctx)).rejects.toThrow();
  fakes.grafana.failOn('findUser', new UpstreamError('grafana', 'find user', 503));
  await expect(sut.rollbackCreate(input, ctx)).rejects.toThrow();
  const account = [...fakes.grafana.users.values()][0]!;
  expect(account).toMatchObject({ login: input.username });
  expect(fakes.identity.byName(input.username)).toMatchObject({ id: user.id, provisioned: false, grafanaUserId: null });
  return { sut, fakes, user, account, state: state.value };
}

async function syncWith(fakes: ReturnType<typeof build>['fakes'], state: CreateState | undefined) {
  const sync = new SyncUserService(fakes, settings, { failedCreate: async (user) => state && failedCreateRecord(state, user) });
  return sync.sync(input.username, syncContext());
}

describe('SyncUserService: the rollback of a failed create', () => {
  it('removes the Grafana account the failed create made (its recorded id): a new POST can then succeed', async () => {
    const { sut, fakes, account, state } = await failedCreate();
    expect(state).toMatchObject({ owned: { grafana: true }, grafanaUserId: account.id });
    const result = await syncWith(fakes, state);
    expect(result).toMatchObject({ rolledBack: true });
    expect(fakes.identity.byName(input.username)).toBeUndefined();
    expect(fakes.cluster.namespaces.has(input.username)).toBe(false);
    expect(fakes.grafana.users.size).toBe(0);
    // Before, the account stayed and every new create of the trainee was a USERNAME_CONFLICT.
    await sut.create(input, createContext().ctx);
    expectComplete(fakes);
  });

  it('removes it by its mark when the id was never saved (our login with our email)', async () => {
    const { fakes, state } = await failedCreate();
    // Staged, not yet written when the job failed: the job's data in Redis lacks it.
    const { grafanaUserId: _lost, ...saved } = state;
    expect((await syncWith(fakes, saved)).rolledBack).toBe(true);
    expect(fakes.grafana.users.size).toBe(0);
  });

  it('leaves the account alone when the record is not provably of this create and this user', async () => {
    const cases: ((state: CreateState) => CreateState | undefined)[] = [
      () => undefined, // no failed create job
      (state) => ({ ...state, userId: 'another-keycloak-user' }),
      (state) => ({ ...state, owned: { ...state.owned, grafana: false } }),
    ];
    for (const record of cases) {
      const { fakes, account, state } = await failedCreate();
      expect((await syncWith(fakes, record(state))).rolledBack).toBe(true);
      expect(fakes.identity.byName(input.username)).toBeUndefined();
      expect([...fakes.grafana.users.keys()]).toEqual([account.id]);
    }
  });

  it('leaves alone another account under the login (another id, or another email), whatever the create recorded', async () => {
    for (const keepId of [true, false]) {
      const { fakes, account, state } = await failedCreate();
      fakes.grafana.users.delete(account.id);
      const human = fakes.grafana.add({ login: input.username, email: 'human@x.io' });
      const { grafanaUserId, ...saved } = state;
      expect((await syncWith(fakes, keepId ? { ...saved, grafanaUserId } : saved)).rolledBack).toBe(true);
      expect([...fakes.grafana.users.keys()]).toEqual([human.id]);
      expect(fakes.grafana.count('deleteUser')).toBe(0);
    }
  });

  it('a new trainee\'s create whose undo cannot reach Grafana keeps its Keycloak user, with the account recorded: sync finishes the playground', async () => {
    const { sut, fakes } = build();
    fakes.grafana.failOn('setOrgRole', new UpstreamError('grafana', 'set role', 400));
    const { ctx, state } = createContext();
    await expect(sut.create(input, ctx)).rejects.toThrow();
    fakes.grafana.failOn('findUser', new UpstreamError('grafana', 'find user', 503));
    await expect(sut.rollbackCreate(input, ctx)).rejects.toThrow();
    // The namespace went; the Keycloak user stays, as the record of the account left behind
    // (removed with it, nothing would ever look at the account again).
    expect(fakes.cluster.namespaces.has(input.username)).toBe(false);
    const account = [...fakes.grafana.users.values()][0]!;
    expect(fakes.identity.byName(input.username)).toMatchObject({ managed: true, provisioned: false, grafanaUserId: account.id });
    // Sync takes it as any half-made user whose parts are its own: finished, nothing left half-made.
    expect((await syncWith(fakes, state.value)).rolledBack).toBe(false);
    expect(fakes.identity.byName(input.username)).toMatchObject({ provisioned: true, grafanaUserId: account.id });
    expect(fakes.cluster.namespaces.has(input.username)).toBe(true);
    expect([...fakes.grafana.users.keys()]).toEqual([account.id]);
  });

  it('…and records the account on that user, so the next create of the trainee finishes it, before any sync', async () => {
    const { sut, fakes } = build();
    fakes.grafana.failOn('setOrgRole', new UpstreamError('grafana', 'set role', 400));
    const { ctx } = createContext();
    await expect(sut.create(input, ctx)).rejects.toThrow();
    fakes.grafana.failOn('findUser', new UpstreamError('grafana', 'find user', 503));
    await expect(sut.rollbackCreate(input, ctx)).rejects.toThrow();
    const account = [...fakes.grafana.users.values()][0]!;
    expect(fakes.identity.byName(input.username)).toMatchObject({ provisioned: false, grafanaUserId: account.id });
    // A new POST replaces the failed job (and its record): the user's own record is enough.
    await sut.create(input, createContext().ctx);
    expectComplete(fakes);
    expect([...fakes.grafana.users.keys()]).toEqual([account.id]);
  });

  it('failedCreateRecord: only a create that marked the account its own, for this very Keycloak user', () => {
    const state: CreateState = { userId: 'u1', owned: { grafana: true }, grafanaUserId: 7 };
    expect(failedCreateRecord(state, { id: 'u1' })).toEqual({ madeId: 7, making: true });
    expect(failedCreateRecord(state, { id: 'u2' })).toBeUndefined();
    expect(failedCreateRecord({ ...state, owned: { keycloak: true } }, { id: 'u1' })).toBeUndefined();
    expect(failedCreateRecord({ owned: { grafana: true } }, { id: 'u1' })).toBeUndefined();
  });
});
