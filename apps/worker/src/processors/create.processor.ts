import { createJobData, createJobState, jobLogFields, secretKeyOf, type CreateState, type SecretStore } from '@kup/core';
import { checkedData, stepContext } from './job-context.js';
import type { JobProcessor, ProvisioningProcessorDeps } from './processor.js';
import { AttemptSignal, runJob } from './run-job.js';

/**
 * `create`: provisions one trainee. The password is generated and stored sealed on first
 * use (SecretStore, keyed by job id + creation time), so every retry, and a run after a
 * crash, uses the same one. A final failure removes what this job made.
 */
export function createProcessor(deps: ProvisioningProcessorDeps): JobProcessor {
  return async (job, token, signal) => {
    // Before anything, the rollback included: a tampered state must not choose what is removed.
    const input = checkedData(job, createJobData, createJobState);
    const log = deps.log.child({ jobId: job.id, username: input.username, attempt: job.attemptsMade + 1, ...jobLogFields(job) });
    const attempt = new AttemptSignal(signal);
    const ctx = stepContext<CreateState>(job, deps.secrets as SecretStore, log, attempt.signal);

    return runJob({
      job,
      token,
      usernames: [input.username],
      locks: deps.locks,
      log,
      stallLimit: deps.stallLimit,
      attempt,
      work: async () => {
        const result = await deps.service.create(input, ctx);
        // The password stays readable for the TTL counted from the job's end. A user
        // already provisioned kept theirs: the one this job offered Keycloak opens nothing.
        if (result.passwordIssued) await deps.secrets.touch(secretKeyOf(job));
        else await deps.secrets.remove(secretKeyOf(job));
        await scheduleExpiry(deps, result.alreadyProvisioned ? undefined : ctx.state.get().expiresAt, input.username);
        return result;
      },
      onFinalFailure: async () => {
        await deps.service.rollbackCreate(input, ctx);
        // The password opens nothing any more: do not hand it out.
        await deps.secrets.remove(secretKeyOf(job));
      },
    });
  };
}

/** The new trainee's expire job; a trainee that was already there keeps its expiry, which its job re-reads. */
async function scheduleExpiry(deps: ProvisioningProcessorDeps, expiresAt: string | undefined, username: string): Promise<void> {
  if (!deps.expiry) return;
  if (expiresAt) await deps.expiry.schedule(username, expiresAt);
  else await deps.expiry.ensure(username);
}
