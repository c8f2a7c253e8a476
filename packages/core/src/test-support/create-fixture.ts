// A create's service over the fake ports, and a job context, shared by the create tests.
import { expect } from 'vitest';
import { defaultPlaygroundSettings } from '../domain/trainee-plan.js';
import type { CreateJobData } from '../queue/contract.js';
import { FakeCluster, FakeGrafana, FakeIdentity } from './fake-ports.js';
import { ProvisioningService } from '../provisioning/provisioning.service.js';
import { memoryJobState, type CreateState, type StepContext } from '../provisioning/step-context.js';
import type { LeftGrafanaAccountStore } from '../provisioning/steps/grafana-account.js';

export const NOW = new Date('2026-03-01T12:00:00.000Z');
export const PASSWORD = 'Stored-Pass-123456';
export const input: CreateJobData = { username: 'jean-dupont', email: 'Jean.Dupont@x.io', fullName: 'Jean Dupont' };

export function build(options: { networkPolicy?: boolean; leftAccounts?: LeftGrafanaAccountStore } = {}) {
  const fakes = { identity: new FakeIdentity(), cluster: new FakeCluster(), grafana: new FakeGrafana() };
  const settings = defaultPlaygroundSettings('https://issuer.example/realms/playground', {
    TRAINEE_CLUSTER_ROLE: 'trainee',
    NETWORK_POLICY_DEFAULT_DENY: options.networkPolicy ?? false,
    NETWORK_POLICY_EGRESS_DENY_CIDRS: options.networkPolicy ? ['169.254.169.254/32'] : [],
  });
  const sut = new ProvisioningService({
    ...fakes,
    settings,
    grafanaOrgId: 1,
    grafanaRole: 'Viewer',
    defaultExpiryDays: 30,
    namespaceDeleteTimeoutMs: 1_000,
    ...(options.leftAccounts ? { leftAccounts: options.leftAccounts } : {}),
    now: () => NOW,
  });
  return { sut, fakes };
}

export const silent = { info: () => undefined, warn: () => undefined, debug: () => undefined };

/** A job's context: the password is "stored" once, like the SecretStore does. */
export function context(state = memoryJobState<CreateState>()) {
  const steps: string[] = [];
  let passwordReads = 0;
  const ctx: StepContext<CreateState> = {
    jobKey: 'create-jean-dupont-1',
    password: async () => {
      passwordReads += 1;
      return PASSWORD;
    },
    state,
    progress: async (step) => void steps.push(step),
    log: silent as never,
  };
  return { ctx, state, steps, passwordReads: () => passwordReads };
}

export function expectComplete(fakes: ReturnType<typeof build>['fakes'], username = input.username) {
  const users = [...fakes.identity.users.values()].filter((u) => u.username === username);
  expect(users).toHaveLength(1);
  expect(users[0]).toMatchObject({ provisioned: true, managed: true, password: PASSWORD });
  expect(fakes.cluster.namespaces.get(username)?.labels).toMatchObject({ 'managed-by': 'k8s-provisioner' });
  expect([...fakes.cluster.objects.keys()].sort()).toEqual(
    [`LimitRange/${username}/default-limits`, `ResourceQuota/${username}/resource-limits`, `RoleBinding/${username}/${username}`].sort(),
  );
  const grafanaUsers = [...fakes.grafana.users.values()].filter((u) => u.login === username);
  expect(grafanaUsers).toHaveLength(1);
  expect(grafanaUsers[0]?.password).toBe(PASSWORD);
  expect(grafanaUsers[0]?.roles.get(1)).toBe('Viewer');
}
