import { DelayedError } from 'bullmq';
import {
  deleteJobState,
  expireJobData,
  jobLogFields,
  type DeleteState,
  type ExpireJobResult,
  type ExpiryService,
  type Logger,
  type ProvisioningService,
  type SecretStore,
} from '@kup/core';
import { checkedData, stepContext } from '../processors/job-context.js';
import type { JobProcessor } from '../processors/processor.js';
import { runJob, type UserLocks } from '../processors/run-job.js';

export interface ExpiryProcessorDeps {
  expiry: Pick<ExpiryService, 'verdict' | 'setExpiry'>;
  /** The normal delete path, as `DELETE /provisioner` runs it. */
  service: Pick<ProvisioningService, 'delete'>;
  secrets: Pick<SecretStore, 'putIfAbsent' | 'touch' | 'remove'>;
  locks: UserLocks;
  log: Logger;
  stallLimit?: number;
}

const WAIT = Symbol('wait');

/**
 * `expire`: due at the trainee's expiry. Under the trainee's lock it reads the expiry
 * Keycloak holds now; past → the trainee is deleted as `DELETE /provisioner` would; still
 * ahead (it was extended) → the same job waits until then; no managed user → done.
 */
export function expireProcessor(deps: ExpiryProcessorDeps): JobProcessor {
  return async (job, token, signal) => {
    const { username } = checkedData(job, expireJobData, deleteJobState);
    const log = deps.log.child({ jobId: job.id, username, attempt: job.attemptsMade + 1, ...jobLogFields(job) });
    const outcome = await runJob<ExpireJobResult | { [WAIT]: number }>({
      job,
      token,
      usernames: [username],
      locks: deps.locks,
      log,
      ...(deps.stallLimit !== undefined ? { stallLimit: deps.stallLimit } : {}),
      work: async () => {
        const verdict = await deps.expiry.verdict(username, signal);
        if (verdict.action === 'skip') return verdict.result;
        if (verdict.action === 'wait') return { [WAIT]: verdict.dueAt };
        log.info({ expiresAt: verdict.expiresAt }, 'trainee expired: deleting');
        const ctx = stepContext<DeleteState>(job, deps.secrets as SecretStore, log, signal);
        const removed = await deps.service.delete({ usernames: [username] }, ctx);
        return { username, deleted: removed.found, expiresAt: verdict.expiresAt };
      },
    });
    if (WAIT in outcome) {
      log.info({ dueAt: new Date(outcome[WAIT]).toISOString() }, 'expiry is ahead: waiting until then');
      await job.updateData({ ...job.data, dueAt: new Date(outcome[WAIT]).toISOString() });
      await job.moveToDelayed(outcome[WAIT], token);
      throw new DelayedError();
    }
    return outcome;
  };
}
