import { z } from 'zod';
import { jobLogFields, setProfileJobData, type Logger, type ProfileService } from '@kup/core';
import { checkedData } from '../processors/job-context.js';
import type { JobProcessor } from '../processors/processor.js';
import { runJob, type UserLocks } from '../processors/run-job.js';

export interface ProfileProcessorDeps {
  profiles: Pick<ProfileService, 'setProfile'>;
  locks: UserLocks;
  log: Logger;
  stallLimit?: number;
}

/** `set-profile`: moves a trainee to another quota profile (namespace label, quota, LimitRange). */
export function setProfileProcessor(deps: ProfileProcessorDeps): JobProcessor {
  return async (job, token, signal) => {
    const input = checkedData(job, setProfileJobData, z.object({}));
    const log = deps.log.child({ jobId: job.id, username: input.username, attempt: job.attemptsMade + 1, ...jobLogFields(job) });
    return runJob({
      job,
      token,
      usernames: [input.username],
      locks: deps.locks,
      log,
      ...(deps.stallLimit !== undefined ? { stallLimit: deps.stallLimit } : {}),
      work: () => deps.profiles.setProfile(input, signal),
    });
  };
}
