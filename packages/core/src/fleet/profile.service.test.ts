import { describe, expect, it } from 'vitest';
import { LABELS, QUOTA_NAME, defaultPlaygroundSettings } from '../domain/trainee-plan.js';
import { InvalidInputError, UserNotFoundError } from '../errors.js';
import { FakeCluster, FakeIdentity } from '../test-support/fake-ports.js';
import { traineeOf } from './fleet-context.js';
import { applyPlayground } from './playground-writer.js';
import { ProfileService } from './profile.service.js';

const settings = { playground: defaultPlaygroundSettings('https://issuer.example/realms/p'), defaultExpiryDays: 365, namespaceDeleteTimeoutMs: 1_000, grafanaOrgId: 1, grafanaRole: 'Viewer' as const };

async function build() {
  const fakes = { identity: new FakeIdentity(), cluster: new FakeCluster() };
  const user = fakes.identity.add({ username: 'ana', email: 'ana@x.io', provisioned: true });
  await applyPlayground(fakes.cluster, settings, traineeOf(user, undefined, 365));
  return fakes;
}
const podsOf = (cluster: FakeCluster) => (cluster.objects.get(`ResourceQuota/ana/${QUOTA_NAME}`) as { spec: { hard: Record<string, string> } } | undefined)?.spec.hard.pods;

describe('ProfileService', () => {
  it('moves the namespace label, the quota and the LimitRange to the new profile, and says what it was', async () => {
    const fakes = await build();
    expect(podsOf(fakes.cluster)).toBe('20');
    const result = await new ProfileService(fakes, settings).setProfile({ username: 'ana', profile: 'small' });
    expect(result).toEqual({ username: 'ana', profile: 'small', previous: 'medium' });
    expect(podsOf(fakes.cluster)).toBe('10');
    expect(fakes.cluster.namespaces.get('ana')?.labels[LABELS.profile]).toBe('small');
    // Only the namespace and the two profile fittings are written.
    expect(fakes.cluster.calls.filter((c) => c.startsWith('apply:')).slice(-3)).toEqual(['apply:Namespace', 'apply:ResourceQuota', 'apply:LimitRange']);
  });

  it('refuses an unknown profile, a trainee who is not managed, and one without a namespace', async () => {
    const fakes = await build();
    const service = new ProfileService(fakes, settings);
    await expect(service.setProfile({ username: 'ana', profile: 'huge' })).rejects.toThrow(InvalidInputError);
    await expect(service.setProfile({ username: 'nobody', profile: 'small' })).rejects.toThrow(UserNotFoundError);
    fakes.cluster.namespaces.delete('ana');
    await expect(service.setProfile({ username: 'ana', profile: 'small' })).rejects.toThrow(UserNotFoundError);
  });
});
