import { UserNotFoundError } from '../errors.js';
import { ANNOTATIONS, LABELS, assertKnownProfile, namespaceManifest, namespacedManifests } from '../domain/trainee-plan.js';
import type { ClusterGateway } from '../ports/cluster-gateway.js';
import type { IdentityProvider } from '../ports/identity-provider.js';
import { NamespaceConflictError, isManagedNamespace } from '../provisioning/ownership.js';
import type { SetProfileJobData, SetProfileJobResult } from '../queue/profile-contract.js';
import { traineeOf, type FleetSettings } from './fleet-context.js';

/** The kinds a quota profile decides. */
const PROFILE_KINDS = new Set(['ResourceQuota', 'LimitRange']);

/**
 * Moves a trainee to another quota profile: the namespace's profile label (what sync and
 * reset read back) and the ResourceQuota and LimitRange, by server-side apply. Idempotent:
 * a retry writes the same again.
 */
export class ProfileService {
  constructor(
    private readonly ports: { identity: Pick<IdentityProvider, 'findUser' | 'setProfile'>; cluster: Pick<ClusterGateway, 'getNamespace' | 'apply'> },
    private readonly settings: Pick<FleetSettings, 'playground' | 'defaultExpiryDays'>,
  ) {}

  async setProfile(input: SetProfileJobData, signal?: AbortSignal): Promise<SetProfileJobResult> {
    assertKnownProfile(this.settings.playground, input.profile);
    const user = await this.ports.identity.findUser(input.username, signal);
    if (!user?.managed || !user.provisioned) throw new UserNotFoundError(input.username);
    const namespace = await this.ports.cluster.getNamespace(input.username, signal);
    // No namespace (or one being deleted): nothing to record the profile on; sync makes it first.
    if (!namespace || namespace.phase === 'Terminating') throw new UserNotFoundError(input.username);
    if (!isManagedNamespace(namespace)) throw new NamespaceConflictError(input.username);
    // Keycloak first: a namespace made again later (sync) reads the profile back from there.
    await this.ports.identity.setProfile?.(user.id, input.profile, signal);
    const recorded = traineeOf(user, namespace, this.settings.defaultExpiryDays);
    const trainee = { ...recorded, profile: input.profile, createdAt: namespace.annotations[ANNOTATIONS.createdAt] ?? recorded.createdAt };
    await this.ports.cluster.apply(namespaceManifest(this.settings.playground, trainee), signal);
    for (const object of namespacedManifests(this.settings.playground, trainee)) {
      if (PROFILE_KINDS.has(object.kind)) await this.ports.cluster.apply(object, signal);
    }
    return { username: input.username, profile: input.profile, previous: namespace.labels[LABELS.profile] ?? null };
  }
}
