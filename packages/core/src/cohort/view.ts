import type { ClusterGateway } from '../ports/cluster-gateway.js';
import type { IdentityProvider } from '../ports/identity-provider.js';
import { summaryOf } from '../fleet/trainee-view.js';
import { COHORT_GROUP_PREFIX, COHORT_LABEL, cohortGroupName } from './contract.js';
import { COHORT_SHOW_MAX, type CohortMemberView } from './queries.js';

export interface CohortViewPorts {
  identity: Pick<IdentityProvider, 'listGroups' | 'findGroup' | 'listGroupMembers'>;
  cluster: Pick<ClusterGateway, 'getNamespace'>;
}

/** One page of cohorts: Keycloak's groups named `cohort-…`. */
export async function listCohorts(ports: CohortViewPorts, offset: number, limit: number, signal?: AbortSignal) {
  const page = await ports.identity.listGroups(COHORT_GROUP_PREFIX, offset, limit, signal);
  return { items: page.groups.map((group) => ({ name: group.name.slice(COHORT_GROUP_PREFIX.length) })), nextOffset: page.next ?? null };
}

/** A cohort's members as Keycloak and Kubernetes have them; undefined when there is no such cohort. */
export async function describeCohort(ports: CohortViewPorts, name: string, signal?: AbortSignal): Promise<{ members: CohortMemberView[]; truncated: boolean } | undefined> {
  const groupId = await ports.identity.findGroup(cohortGroupName(name), signal);
  if (!groupId) return undefined;
  const members: CohortMemberView[] = [];
  let first: number | undefined = 0;
  while (first !== undefined && members.length < COHORT_SHOW_MAX) {
    const page = await ports.identity.listGroupMembers(groupId, first, 100, signal);
    // A few namespaces at a time: enough to answer a class of hundreds within the query timeout.
    for (let i = 0; i < page.users.length; i += 8) {
      const batch = page.users.slice(i, i + 8);
      const namespaces = await Promise.all(batch.map((user) => ports.cluster.getNamespace(user.username, signal)));
      batch.forEach((user, j) => {
        const namespace = namespaces[j];
        members.push({
          ...summaryOf(user),
          namespace: !namespace ? 'missing' : namespace.phase === 'Terminating' ? 'terminating' : 'present',
          labelled: namespace?.labels[COHORT_LABEL] === name,
        });
      });
    }
    first = page.next;
  }
  return { members: members.slice(0, COHORT_SHOW_MAX).sort((a, b) => a.username.localeCompare(b.username)), truncated: first !== undefined };
}
