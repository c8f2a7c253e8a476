import { deleteJobData, deleteJobState, type DeleteState, type SecretStore } from '@kup/core';
import { checkedData, stepContext } from './job-context.js';
import type { JobProcessor, ProvisioningProcessorDeps } from './processor.js';
import { runJob } from './run-job.js';

/** `delete`: removes a trainee's playground; every candidate username is locked meanwhile. */
export function deleteProcessor(deps: ProvisioningProcessorDeps): JobProcessor {
  return async (job, token, signal) => {
    const input = checkedData(job, deleteJobData, deleteJobState);
    const log = deps.log.child({ jobId: job.id, username: input.usernames[0], attempt: job.attemptsMade + 1 });
    const ctx = stepContext<DeleteState>(job, deps.secrets as SecretStore, log, signal);
    return runJob({ job, token, usernames: input.usernames, locks: deps.locks, log, stallLimit: deps.stallLimit, work: () => deps.service.delete(input, ctx) });
  };
}
