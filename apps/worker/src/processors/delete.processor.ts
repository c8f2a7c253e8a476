import { deleteJobData, deleteJobState, jobLogFields, type DeleteState, type SecretStore } from '@kup/core';
import { checkedData, stepContext } from './job-context.js';
import type { JobProcessor, ProvisioningProcessorDeps } from './processor.js';
import { AttemptSignal, runJob } from './run-job.js';

/** `delete`: removes a trainee's playground and their waiting expire job; every candidate username is locked meanwhile. */
export function deleteProcessor(deps: ProvisioningProcessorDeps): JobProcessor {
  return async (job, token, signal) => {
    const input = checkedData(job, deleteJobData, deleteJobState);
    const log = deps.log.child({ jobId: job.id, username: input.usernames[0], attempt: job.attemptsMade + 1, ...jobLogFields(job) });
    const attempt = new AttemptSignal(signal);
    const ctx = stepContext<DeleteState>(job, deps.secrets as SecretStore, log, attempt.signal);
    return runJob({
      job,
      token,
      usernames: input.usernames,
      locks: deps.locks,
      log,
      stallLimit: deps.stallLimit,
      attempt,
      work: async () => {
        const result = await deps.service.delete(input, ctx);
        // Under the trainee's lock: a create of the same name after this delete sets a new one.
        if (await deps.expiry?.cancel?.(result.username)) log.info('expire job removed');
        return result;
      },
    });
  };
}
