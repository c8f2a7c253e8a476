import { z } from 'zod';
import { jobLogFields, type Logger } from '@kup/core';
import { checkedData } from '../processors/job-context.js';
import type { JobProcessor } from '../processors/processor.js';
import { runJob, type UserLocks } from '../processors/run-job.js';

export interface TraineeChangeProcessorDeps {
  locks: UserLocks;
  log: Logger;
  stallLimit?: number;
}

/**
 * A per-trainee change (`set-expiry`, `set-profile`): the job's data checked against
 * `dataSchema`, then `work` under the trainee's lock, as `runJob` runs every job.
 */
export function traineeChangeProcessor<Data extends { username: string }>(
  deps: TraineeChangeProcessorDeps,
  dataSchema: z.ZodType<Data>,
  work: (input: Data, signal: AbortSignal | undefined) => Promise<unknown>,
): JobProcessor {
  return async (job, token, signal) => {
    const input = checkedData(job, dataSchema, z.object({}));
    const log = deps.log.child({ jobId: job.id, username: input.username, attempt: job.attemptsMade + 1, ...jobLogFields(job) });
    return runJob({
      job,
      token,
      usernames: [input.username],
      locks: deps.locks,
      log,
      ...(deps.stallLimit !== undefined ? { stallLimit: deps.stallLimit } : {}),
      work: () => work(input, signal),
    });
  };
}
