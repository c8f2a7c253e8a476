import { z } from 'zod';
import { resetPasswordJobData, secretKeyOf, type PasswordResetService, type SecretStore } from '@kup/core';
import { checkedData, stepContext } from '../processors/job-context.js';
import type { JobProcessor } from '../processors/processor.js';
import { runTraineeJob, type TraineeJobDeps } from '../processors/run-job.js';

export interface PasswordResetProcessorDeps extends TraineeJobDeps {
  passwords: Pick<PasswordResetService, 'reset'>;
  secrets: Pick<SecretStore, 'putIfAbsent' | 'touch'>;
}

/**
 * `reset-password`: a trainee's new password, under their lock. The password is the job's
 * (`stepContext`: sealed under its key on first use, read back by every retry), so the job
 * data, its result and the logs never hold it; `GET /jobs/:id` opens it.
 */
export function resetPasswordProcessor(deps: PasswordResetProcessorDeps): JobProcessor {
  return async (job, token, signal) => {
    const { username } = checkedData(job, resetPasswordJobData, z.object({}));
    return runTraineeJob(deps, job, token, signal, username, async (log, held) => {
      const result = await deps.passwords.reset(username, stepContext<object>(job, deps.secrets as SecretStore, log, held));
      // Readable for the TTL counted from the job's end, not its start.
      await deps.secrets.touch(secretKeyOf(job));
      return result;
    });
  };
}
