import { ProvisionerError, cohortMemberCreateData, joinCohort, type CohortPorts, type CreateJobResult } from '@kup/core';
import { jobFailure } from './job-failure.js';
import { createProcessor } from './create.processor.js';
import { deleteProcessor } from './delete.processor.js';
import type { JobProcessor, ProvisioningProcessorDeps } from './processor.js';

/**
 * The children of cohort flows: exactly a single trainee's create and delete (same
 * conflicts, ownership, rollback and sealed password), then, for a create, the trainee's
 * membership written into Keycloak (group) and Kubernetes (namespace label).
 */
export function cohortMemberProcessors(deps: ProvisioningProcessorDeps & { membership: CohortPorts; setExpiry?: JobProcessor | undefined }): Record<string, JobProcessor> {
  const create = createProcessor(deps);
  const memberCreate: JobProcessor = async (job, token, signal) => {
    const parsed = cohortMemberCreateData.safeParse(job.data);
    const result = (await create(job, token, signal)) as CreateJobResult;
    // createProcessor refused bad data already; this only narrows the type.
    if (!parsed.success) return result;
    try {
      await joinCohort(deps.membership, parsed.data.cohort, { userId: result.userId, namespace: result.namespace }, signal);
    } catch (error) {
      throw jobFailure(error);
    }
    return result;
  };
  // A member's new expiry is the trainee's own change (PATCH /trainees/:username's job).
  const memberExpiry: JobProcessor =
    deps.setExpiry ??
    (async () => {
      throw jobFailure(new ProvisionerError('UNKNOWN_JOB', 'this worker does not change expiries'));
    });
  return { 'cohort-member-create': memberCreate, 'cohort-member-delete': deleteProcessor(deps), 'cohort-member-expiry': memberExpiry };
}
