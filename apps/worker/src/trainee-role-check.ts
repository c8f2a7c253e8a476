import { describeError, type ClusterGateway, type Logger } from '@kup/core';

/**
 * Says at start-up whether the trainee ClusterRole exists. k8s/base does not ship it (a
 * cluster may already have its own; components/trainee-clusterrole adds ours), so
 * a cluster with neither would get RoleBindings that grant trainees nothing, silently.
 * Never blocks or fails the start: the worker's RBAC allows `get` on that one role only.
 */
export async function checkTraineeClusterRole(cluster: Pick<ClusterGateway, 'get'>, name: string, logger: Pick<Logger, 'info' | 'warn' | 'error'>): Promise<boolean | undefined> {
  try {
    const role = await cluster.get({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', name });
    if (role) {
      logger.info({ clusterRole: name }, 'trainee ClusterRole found');
      return true;
    }
    logger.error(
      { clusterRole: name },
      `trainee ClusterRole ${name} does not exist: playgrounds' RoleBindings grant nothing until it does (enable k8s/components/trainee-clusterrole, or set TRAINEE_CLUSTER_ROLE)`,
    );
    return false;
  } catch (error) {
    logger.warn({ clusterRole: name, err: describeError(error) }, 'could not check the trainee ClusterRole');
    return undefined;
  }
}
