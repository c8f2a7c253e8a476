import type { FastifyReply, FastifyRequest } from 'fastify';
import { BUILT_IN_PROFILE_NAMES, JOBS, setProfileJobId, setProfileJobResult, unknownProfileMessage, type SetProfileJobData } from '@kup/core';
import { HttpError } from '../../http/http-error.js';
import { submitTraineeChange, type TraineeChangeDeps } from './trainee-change.js';

export interface ProfileChangeOptions extends TraineeChangeDeps {
  /** The quota profile names (built-in and QUOTA_PROFILES_FILE's). */
  quotaProfiles?: readonly string[];
}

/**
 * `PATCH /trainees/:username {profile}`: an unknown name is a 400 naming the valid ones,
 * before anything is queued; otherwise a `set-profile` job (one per trainee: the same change
 * pending is answered with its job, another one is a 409), answered like a change of expiry.
 */
export async function changeProfile(options: ProfileChangeOptions, request: FastifyRequest, reply: FastifyReply, username: string, profile: string) {
  const names = options.quotaProfiles ?? BUILT_IN_PROFILE_NAMES;
  if (!names.includes(profile)) throw new HttpError(400, unknownProfileMessage(profile, names), 'UNKNOWN_PROFILE');
  const data: SetProfileJobData = { username, profile };
  return submitTraineeChange(options, request, reply, {
    name: JOBS.setProfile,
    jobId: setProfileJobId(username),
    data,
    sameWhen: 'profile',
    what: 'profile change',
    pendingCode: 'PROFILE_CHANGE_PENDING',
    result: setProfileJobResult,
  });
}
