import { z } from 'zod';
import { checkedData } from '../processors/job-context.js';
import type { JobProcessor } from '../processors/processor.js';
import { runTraineeJob, type TraineeJobDeps } from '../processors/run-job.js';

/**
 * A per-trainee change (`set-expiry`, `set-profile`): the job's data checked against
 * `dataSchema`, then `work` under the trainee's lock, as `runJob` runs every job.
 */
export function traineeChangeProcessor<Data extends { username: string }>(
  deps: TraineeJobDeps,
  dataSchema: z.ZodType<Data>,
  work: (input: Data, signal: AbortSignal | undefined) => Promise<unknown>,
): JobProcessor {
  return async (job, token, signal) => {
    const input = checkedData(job, dataSchema, z.object({}));
    return runTraineeJob(deps, job, token, signal, input.username, (_log, held) => work(input, held));
  };
}
