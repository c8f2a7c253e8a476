import { DelayedError } from 'bullmq';
import {
  deleteBegun,
  expireJobData,
  expireJobState,
  jobLogFields,
  type ExpireJobResult,
  type ExpireState,
  type ExpiryService,
  type Logger,
  type ProvisioningService,
  type SecretStore,
} from '@kup/core';
import { checkedData, stepContext } from '../processors/job-context.js';
import type { JobProcessor } from '../processors/processor.js';
import { AttemptSignal, runJob, type UserLocks } from '../processors/run-job.js';

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
 * A retry of a delete already begun finishes it without asking: an attempt that removed the
 * Keycloak user and failed at Grafana would otherwise find no user, and leave the account.
 */
export function expireProcessor(deps: ExpiryProcessorDeps): JobProcessor {
  return async (job, token, signal) => {
    const { username } = checkedData(job, expireJobData, expireJobState);
    const log = deps.log.child({ jobId: job.id, username, attempt: job.attemptsMade + 1, ...jobLogFields(job) });
    const attempt = new AttemptSignal(signal);
    const outcome = await runJob<ExpireJobResult | { [WAIT]: number }>({
      job,
      token,
      usernames: [username],
      locks: deps.locks,
      log,
      ...(deps.stallLimit !== undefined ? { stallLimit: deps.stallLimit } : {}),
      attempt,
      work: async () => {
        const ctx = stepContext<ExpireState>(job, deps.secrets as SecretStore, log, attempt.signal);
        const earlier = ctx.state.get();
        let expiresAt = earlier.expiresAt ?? null;
        // Nothing removed yet: Keycloak's expiry decides again (it may have been extended meanwhile).
        if (!deleteBegun(earlier)) {
          const verdict = await deps.expiry.verdict(username, attempt.signal);
          if (verdict.action === 'wait') return { [WAIT]: verdict.dueAt };
          // A target chosen but no user left (removed, its record lost in a crash): the delete finishes the rest.
          if (verdict.action === 'skip' && !earlier.target) return verdict.result;
          if (verdict.action === 'delete') {
            expiresAt = verdict.expiresAt;
            // Written with the delete's first record, the target.
            ctx.state.stage({ expiresAt });
          }
        }
        log.info({ expiresAt, resumed: earlier.target !== undefined }, 'trainee expired: deleting');
        const removed = await deps.service.delete({ usernames: [username] }, ctx);
        return { username, deleted: removed.found, expiresAt };
      },
    });
    if (WAIT in outcome) {
      log.info({ dueAt: new Date(outcome[WAIT]).toISOString() }, 'expiry is ahead: waiting until then');
      // A delete begun (nothing removed) is forgotten: at its new time the job decides afresh.
      const { state: _begun, ...data } = job.data as Record<string, unknown>;
      await job.updateData({ ...data, dueAt: new Date(outcome[WAIT]).toISOString() });
      await job.moveToDelayed(outcome[WAIT], token);
      throw new DelayedError();
    }
    return outcome;
  };
}
