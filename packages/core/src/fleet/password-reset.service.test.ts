import { describe, expect, it } from 'vitest';
import { TraineeNotProvisionedError, UserNotFoundError } from '../errors.js';
import { FakeGrafana } from '../test-support/fake-grafana.js';
import { FakeIdentity } from '../test-support/fake-ports.js';
import { PasswordResetService, type PasswordResetContext } from './password-reset.service.js';

const silent = { info: () => undefined, warn: () => undefined, debug: () => undefined };

/** The job's password, sealed once: every attempt reads the same back (as the SecretStore does). */
function jobContext(password = 'New-Pass-2345-abcd') {
  let sealed: string | undefined;
  const ctx: PasswordResetContext = { password: async () => (sealed ??= password), log: silent as never };
  return ctx;
}

function build(user: { provisioned?: boolean; managed?: boolean; grafanaUserId?: number | null } = {}) {
  const fakes = { identity: new FakeIdentity(), grafana: new FakeGrafana() };
  const account = fakes.grafana.add({ login: 'ana', email: 'ana@x.io', password: 'old' });
  const trainee = fakes.identity.add({ username: 'ana', email: 'ana@x.io', provisioned: true, grafanaUserId: account.id, password: 'old', ...user } as never);
  return { fakes, account, trainee, service: new PasswordResetService(fakes) };
}

describe('PasswordResetService', () => {
  it('sets the job\'s password in Keycloak and on the Grafana account the user records', async () => {
    const { fakes, account, trainee, service } = build();
    const result = await service.reset('ana', jobContext());
    expect(result).toEqual({ username: 'ana', reset: { keycloak: true, grafana: true }, passwordIssued: true });
    expect(fakes.identity.users.get(trainee.id)?.password).toBe('New-Pass-2345-abcd');
    expect(fakes.grafana.users.get(account.id)?.password).toBe('New-Pass-2345-abcd');
  });

  it('sets the same password again on a retry', async () => {
    const { fakes, trainee, account, service } = build();
    const ctx = jobContext();
    await service.reset('ana', ctx);
    await service.reset('ana', jobContext('Another-One-9876-x'));
    // Another job, another password; the first job's retry puts its own back everywhere.
    await service.reset('ana', ctx);
    expect(fakes.identity.users.get(trainee.id)?.password).toBe('New-Pass-2345-abcd');
    expect(fakes.grafana.users.get(account.id)?.password).toBe('New-Pass-2345-abcd');
  });

  it('finds the account by the recorded id, even under a login the trainee renamed', async () => {
    const { fakes, account, service } = build();
    account.login = 'ana-renamed';
    fakes.grafana.add({ login: 'ana', email: 'someone@else.io', password: 'theirs' });
    expect((await service.reset('ana', jobContext())).reset.grafana).toBe(true);
    expect(fakes.grafana.users.get(account.id)?.password).toBe('New-Pass-2345-abcd');
    expect([...fakes.grafana.users.values()].find((u) => u.login === 'ana')?.password).toBe('theirs');
  });

  it('leaves alone any Grafana account not proven the trainee\'s, and says why', async () => {
    // No record ("none"), while an account holds the login.
    const none = build({ grafanaUserId: null });
    expect(await none.service.reset('ana', jobContext())).toMatchObject({ reset: { keycloak: true, grafana: false }, grafanaSkipped: expect.stringMatching(/not proven/) });
    expect(none.fakes.grafana.users.get(none.account.id)?.password).toBe('old');

    // A record pointing at a server admin.
    const admin = build();
    const root = admin.fakes.grafana.add({ login: 'root', email: 'root@x.io', password: 'root', isGrafanaAdmin: true });
    admin.trainee.grafanaUserId = root.id;
    expect((await admin.service.reset('ana', jobContext())).grafanaSkipped).toMatch(/not proven/);
    expect(admin.fakes.grafana.users.get(root.id)?.password).toBe('root');

    // A user made before ids were recorded: the login with another email is someone else's.
    const legacy = build({ grafanaUserId: undefined });
    legacy.account.email = 'other@x.io';
    expect((await legacy.service.reset('ana', jobContext())).reset.grafana).toBe(false);
    expect(legacy.fakes.grafana.users.get(legacy.account.id)?.password).toBe('old');
    legacy.account.email = 'ana@x.io';
    expect((await legacy.service.reset('ana', jobContext())).reset.grafana).toBe(true);
  });

  it('resets Keycloak alone when the recorded Grafana account is gone', async () => {
    const { fakes, account, service } = build();
    fakes.grafana.users.delete(account.id);
    const result = await service.reset('ana', jobContext());
    expect(result).toMatchObject({ reset: { keycloak: true, grafana: false }, grafanaSkipped: expect.stringMatching(/sync/) });
  });

  it('refuses an unknown or unmanaged user (404) and a half-made one (sync first), before any password is sealed or written', async () => {
    let sealed = 0;
    const ctx: PasswordResetContext = { password: async () => `p-${++sealed}-Abcdefgh23`, log: silent as never };
    await expect(build().service.reset('nobody', ctx)).rejects.toThrow(UserNotFoundError);
    const unmanaged = build({ managed: false });
    await expect(unmanaged.service.reset('ana', ctx)).rejects.toThrow(UserNotFoundError);
    const halfMade = build({ provisioned: false });
    const refused = halfMade.service.reset('ana', ctx);
    await expect(refused).rejects.toThrow(TraineeNotProvisionedError);
    await expect(refused).rejects.toMatchObject({ code: 'TRAINEE_NOT_PROVISIONED', retryable: false, message: expect.stringMatching(/POST \/sync/) });
    expect(sealed).toBe(0);
    expect(halfMade.fakes.identity.calls).not.toContain('setPassword');
  });
});
