// A trainee renamed their own Grafana login (Grafana lets a signed-in user do that): the
// account is still theirs by the id Keycloak records, which they cannot change. Sync must
// not take it for missing and make a second one (the first would then be recorded nowhere
// and outlive every delete), nor report it missing in a dry run.
import { describe, expect, it } from 'vitest';
import { FakeCluster, FakeGrafana, FakeIdentity } from '../test-support/fake-ports.js';
import { fleetSettings as settings } from '../test-support/fleet-fixture.js';
import { memoryJobState, type StepContext } from '../provisioning/step-context.js';
import { traineeOf } from './fleet-context.js';
import { applyPlayground } from './playground-writer.js';
import { SyncUserService, type SyncState } from './sync-user.service.js';

const silent = { info: () => undefined, warn: () => undefined, debug: () => undefined };
const context = (): StepContext<SyncState> =>
  ({ jobKey: 'job-1', password: async () => 'Fresh-Pass-1234567890', state: memoryJobState<SyncState>(), progress: async () => undefined, log: silent as never });

/** A provisioned trainee whose recorded Grafana account now goes by another login. */
async function renamed(login: string, extra: { email?: string; isGrafanaAdmin?: boolean } = {}) {
  const fakes = { identity: new FakeIdentity(), cluster: new FakeCluster(), grafana: new FakeGrafana() };
  const user = fakes.identity.add({ username: 'ana', provisioned: true, email: 'ana@x.io', createdAt: Date.parse('2026-11-01T00:00:00Z') });
  await applyPlayground(fakes.cluster, settings, traineeOf(user, undefined, 365));
  const account = fakes.grafana.add({ login, email: 'ana@x.io', ...extra });
  await fakes.identity.setGrafanaUserId(user.id, account.id);
  return { fakes, user, account };
}

describe('sync, the trainee having renamed their Grafana login', () => {
  it('keeps the one account the id records: nothing made, nothing re-recorded', async () => {
    const { fakes, user, account } = await renamed('ana-was-here');
    const result = await new SyncUserService(fakes, settings).sync('ana', context());
    expect(result).toMatchObject({ fixedGrafana: false, passwordIssued: false, rolledBack: false });
    expect([...fakes.grafana.users.keys()]).toEqual([account.id]);
    expect(fakes.grafana.count('createUser')).toBe(0);
    expect(fakes.identity.users.get(user.id)?.grafanaUserId).toBe(account.id);
  });

  it('a dry run does not report it missing', async () => {
    const { fakes } = await renamed('ana-was-here');
    const result = await new SyncUserService(fakes, settings).sync('ana', context(), { dryRun: true });
    expect(result.repairs ?? []).not.toContainEqual(expect.stringMatching(/^grafana: account missing/));
  });

  it('a recorded id that leads to a server admin is not the trainee\'s: the account is made again under the login', async () => {
    const { fakes, account } = await renamed('root', { email: 'root@x.io', isGrafanaAdmin: true });
    const result = await new SyncUserService(fakes, settings).sync('ana', context());
    expect(result).toMatchObject({ fixedGrafana: true });
    expect(fakes.grafana.users.get(account.id)).toMatchObject({ login: 'root', isGrafanaAdmin: true });
    expect([...fakes.grafana.users.values()].map((u) => u.login).sort()).toEqual(['ana', 'root']);
  });
});
