import type { ClusterGateway } from '../ports/cluster-gateway.js';
import type { IdentityProvider } from '../ports/identity-provider.js';
import { COHORT_GROUP_PREFIX, COHORT_LABEL, cohortGroupName } from './contract.js';

export interface CohortPorts {
  identity: Pick<IdentityProvider, 'ensureGroup' | 'addToGroup'>;
  cluster: Pick<ClusterGateway, 'labelNamespace'>;
}

/**
 * Records a trainee's membership in the systems themselves: the Keycloak group
 * `cohort-<name>` (made on first use) and the cohort label on their namespace. Both are
 * idempotent, so a retried child writes them again harmlessly.
 */
export async function joinCohort(ports: CohortPorts, cohort: string, member: { userId: string; namespace: string }, signal?: AbortSignal): Promise<void> {
  const groupId = await ports.identity.ensureGroup(cohortGroupName(cohort), signal);
  await ports.identity.addToGroup(member.userId, groupId, signal);
  await ports.cluster.labelNamespace(member.namespace, { [COHORT_LABEL]: cohort }, signal);
}

/**
 * The cohort a trainee belongs to, from their Keycloak groups: for a namespace made again
 * (sync, reset of a missing one), whose label went with the old one.
 */
export async function cohortOfUser(identity: Pick<IdentityProvider, 'groupsOf'>, userId: string, signal?: AbortSignal): Promise<{ cohort?: string }> {
  const group = (await identity.groupsOf(userId, signal)).find((name) => name.startsWith(COHORT_GROUP_PREFIX));
  return group ? { cohort: group.slice(COHORT_GROUP_PREFIX.length) } : {};
}
