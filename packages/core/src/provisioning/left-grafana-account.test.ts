// A create that made the trainee's Grafana account, lost its id and failed for good with
// Grafana unreachable: its undo keeps the half-made Keycloak user and records the account
// by username. A new POST of the same trainee replaces the failed job (same id) and its
// state with it; the record left by username is what the next create and sync go by.
import { describe, expect, it } from 'vitest';
import { UpstreamError } from '../errors.js';
import { SyncUserService, type SyncState } from '../fleet/sync-user.service.js';
import { build, context, expectComplete, input, silent } from '../test-support/create-fixture.js';
import { fleetSettings } from '../test-support/fleet-fixture.js';
import { memoryJobState, type DeleteState, type StepContext } from './step-context.js';
import type { LeftGrafanaAccount, LeftGrafanaAccountStore } from './steps/grafana-account.js';

/** The Redis store's behaviour, in memory; `log` says what was asked, in order. */
function memoryStore() {
  const records = new Map<string, LeftGrafanaAccount>();
  const log: string[] = [];
  const store: LeftGrafanaAccountStore = {
    get: async (username) => records.get(username),
    put: async (username, account) => void (log.push('put'), records.set(username, { ...account })),
    clear: async (username) => void (log.push('clear'), records.delete(username)),
  };
  return { store, records, log };
}

const permanent = (operation: string) => new UpstreamError('grafana', operation, 400);

/**
 * The first create: Grafana makes the account but its answer (the id) is lost, the job fails
 * for good, and Grafana stays down through the undo. Left: the half-made user, the account.
 */
async function failedFirstCreate(options: { idKnown?: boolean } = {}) {
  const left = memoryStore();
  const { sut, fakes } = build({ leftAccounts: left.store });
  if (options.idKnown) {
    fakes.grafana.failOn('setOrgRole', permanent('set role'));
  } else {
    const make = fakes.grafana.createUser.bind(fakes.grafana);
    fakes.grafana.createUser = async (user) => {
      await make(user);
      throw permanent('create user');
    };
  }
  const first = context();
  await expect(sut.create(input, first.ctx)).rejects.toThrow();
  const grafanaCalls = fakes.grafana.calls.length;
  let callsAtPut = -1;
  const put = left.store.put;
  left.store.put = async (username, account) => {
    callsAtPut = fakes.grafana.calls.length;
    await put(username, account);
  };
  fakes.grafana.failOn('findUser', new UpstreamError('grafana', 'find user', 503));
  await expect(sut.rollbackCreate(input, first.ctx)).rejects.toThrow();
  // Kept before the undo asked Grafana anything.
  expect(callsAtPut).toBe(grafanaCalls);
  const account = [...fakes.grafana.users.values()][0]!;
  const user = fakes.identity.byName(input.username)!;
  expect(user).toMatchObject({ managed: true, provisioned: false });
  return { sut, fakes, left, account, user, state: first.state.value };
}

function syncContext(): StepContext<SyncState> {
  return { jobKey: 'sync-1', password: async () => 'Fresh-Pass-1234567890', state: memoryJobState<SyncState>(), progress: async () => undefined, log: silent as never };
}

describe('the Grafana account a failed create left, once a new POST replaced its job', () => {
  it('the undo records it by username, for the Keycloak user it kept (with the id, when the job knew it)', async () => {
    const lost = await failedFirstCreate();
    expect(lost.state).toMatchObject({ userId: lost.user.id, owned: { grafana: true } });
    expect(lost.state.grafanaUserId).toBeUndefined();
    expect(lost.user.grafanaUserId).toBeNull();
    expect(lost.left.records.get(input.username)).toEqual({ userId: lost.user.id });

    const known = await failedFirstCreate({ idKnown: true });
    expect(known.left.records.get(input.username)).toEqual({ userId: known.user.id, grafanaUserId: known.account.id });
  });

  it('an undo that removes everything clears the record: nothing is left to speak for', async () => {
    const left = memoryStore();
    const { sut, fakes } = build({ leftAccounts: left.store });
    fakes.grafana.failOn('setOrgRole', permanent('set role'));
    const { ctx } = context();
    await expect(sut.create(input, ctx)).rejects.toThrow();
    await sut.rollbackCreate(input, ctx);
    expect(fakes.grafana.users.size).toBe(0);
    expect(fakes.identity.byName(input.username)).toBeUndefined();
    expect(left.log).toEqual(['put', 'clear']);
    expect(left.records.size).toBe(0);
  });

  it('the next create (a new job, no state) takes the account by that record and finishes; the record is cleared', async () => {
    const { sut, fakes, left, account, user } = await failedFirstCreate();
    const next = context();
    // Interrupted once after taking the account (Keycloak down at `finish`): its retry ends the same.
    fakes.identity.failOn('setProvisioned');
    await expect(sut.create(input, next.ctx)).rejects.toMatchObject({ retryable: true });
    const result = await sut.create(input, next.ctx);
    expect(result).toMatchObject({ userId: user.id, grafanaUserId: account.id, passwordIssued: true });
    expectComplete(fakes);
    expect([...fakes.grafana.users.keys()]).toEqual([account.id]);
    expect(fakes.identity.byName(input.username)).toMatchObject({ id: user.id, grafanaUserId: account.id });
    expect(left.records.size).toBe(0);
  });

  it('the record speaks only for its own Keycloak user and its own account', async () => {
    // Another Keycloak user under the name (the first one deleted and the trainee made again).
    const other = await failedFirstCreate();
    other.left.records.set(input.username, { userId: 'another-keycloak-user' });
    await expect(other.sut.create(input, context().ctx)).rejects.toMatchObject({ code: 'USERNAME_CONFLICT' });
    // Another account than the recorded id, under our login with our email.
    const byId = await failedFirstCreate({ idKnown: true });
    byId.fakes.grafana.users.delete(byId.account.id);
    await byId.fakes.identity.setGrafanaUserId(byId.user.id, null);
    const lookalike = byId.fakes.grafana.add({ login: input.username, email: input.email!, password: 'Theirs-123' });
    await expect(byId.sut.create(input, context().ctx)).rejects.toMatchObject({ code: 'USERNAME_CONFLICT' });
    // No id recorded: an account under our login with another email is a stranger's.
    const byMark = await failedFirstCreate();
    byMark.fakes.grafana.users.delete(byMark.account.id);
    const human = byMark.fakes.grafana.add({ login: input.username, email: 'human@x.io', password: 'Human-123' });
    await expect(byMark.sut.create(input, context().ctx)).rejects.toMatchObject({ code: 'USERNAME_CONFLICT' });
    for (const { fakes } of [other, byId, byMark]) expect(fakes.grafana.count('setPassword')).toBe(0);
    expect(byId.fakes.grafana.users.get(lookalike.id)?.password).toBe('Theirs-123');
    expect(byMark.fakes.grafana.users.get(human.id)?.password).toBe('Human-123');
  });

  it('a replacement that fails too never removes the account it took (not its own), and leaves the record for sync', async () => {
    const { sut, fakes, left, account, user } = await failedFirstCreate();
    fakes.identity.failOn('setProvisioned', new UpstreamError('keycloak', 'update user', 400));
    const next = context();
    await expect(sut.create(input, next.ctx)).rejects.toThrow();
    await sut.rollbackCreate(input, next.ctx);
    expect([...fakes.grafana.users.keys()]).toEqual([account.id]);
    expect(fakes.identity.byName(input.username)).toMatchObject({ id: user.id, provisioned: false });
    expect(left.records.get(input.username)).toEqual({ userId: user.id });
  });

  it('sync\'s rollback, the failed job replaced, removes the account by the record and clears it', async () => {
    const { fakes, left } = await failedFirstCreate();
    // The replaced job's state says nothing of the account (it never reached Grafana).
    const sync = new SyncUserService(fakes, fleetSettings, { failedCreate: async () => undefined, leftAccounts: left.store });
    expect(await sync.sync(input.username, syncContext())).toMatchObject({ rolledBack: true });
    expect(fakes.identity.byName(input.username)).toBeUndefined();
    expect(fakes.grafana.users.size).toBe(0);
    expect(left.records.size).toBe(0);
  });

  it('sync leaves the account alone when the record is another Keycloak user\'s', async () => {
    const { fakes, left, account } = await failedFirstCreate();
    left.records.set(input.username, { userId: 'another-keycloak-user' });
    const sync = new SyncUserService(fakes, fleetSettings, { failedCreate: async () => undefined, leftAccounts: left.store });
    expect(await sync.sync(input.username, syncContext())).toMatchObject({ rolledBack: true });
    expect(fakes.identity.byName(input.username)).toBeUndefined();
    expect([...fakes.grafana.users.keys()]).toEqual([account.id]);
    expect(fakes.grafana.count('deleteUser')).toBe(0);
  });
});

describe('a delete of the half-made trainee, the failed job replaced', () => {
  it('removes the account by the record, and the record with the user', async () => {
    const { sut, fakes, left, user } = await failedFirstCreate();
    const result = await sut.delete({ usernames: [input.username], email: input.email }, deleteContext());
    expect(result).toMatchObject({ userId: user.id, removed: { keycloak: true, grafana: true } });
    expect(fakes.identity.byName(input.username)).toBeUndefined();
    expect(fakes.grafana.users.size).toBe(0);
    expect(left.records.size).toBe(0);
  });

  it('leaves the account, and a record naming another Keycloak user, alone', async () => {
    const { sut, fakes, left, account } = await failedFirstCreate();
    left.records.set(input.username, { userId: 'another-keycloak-user' });
    const result = await sut.delete({ usernames: [input.username], email: input.email }, deleteContext());
    expect(result).toMatchObject({ removed: { keycloak: true, grafana: false } });
    expect([...fakes.grafana.users.keys()]).toEqual([account.id]);
    expect(left.records.get(input.username)).toEqual({ userId: 'another-keycloak-user' });
  });
});

function deleteContext(): StepContext<DeleteState> {
  return { jobKey: 'delete-1', password: async () => 'unused', state: memoryJobState<DeleteState>(), progress: async () => undefined, log: silent as never };
}
