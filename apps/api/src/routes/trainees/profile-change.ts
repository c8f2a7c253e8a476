import type { FastifyReply, FastifyRequest } from 'fastify';
import { BUILT_IN_PROFILE_NAMES, JOBS, QUEUES, setProfileJobId, setProfileJobResult, statusOfFailure, unknownProfileMessage, type SetProfileJobData } from '@kup/core';
import { HttpError } from '../../http/http-error.js';
import { SubmissionRefused } from '../../jobs/create-policy.js';
import type { JobSubmitter } from '../../jobs/job-submitter.js';
import { waitIfAsked, type WaitIfAskedDeps } from '../../jobs/wait-if-asked.js';
import { statusUrlOf } from '../provisioner/index.js';
import { notFoundBody } from './schemas.js';

export interface ProfileChangeOptions extends WaitIfAskedDeps {
  submitter: Pick<JobSubmitter, 'submit'>;
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
  let submission: Awaited<ReturnType<typeof options.submitter.submit>>;
  try {
    submission = await options.submitter.submit(QUEUES.provisioning, JOBS.setProfile, setProfileJobId(username), data, async (existing, state) => {
      if (['completed', 'failed', 'unknown'].includes(state)) return 'replace';
      if ((existing.data as { profile?: unknown }).profile === profile) return 'answer';
      throw new SubmissionRefused(409, { message: `another profile change for "${username}" is still pending: try again when it has ended`, code: 'PROFILE_CHANGE_PENDING', ...(existing.id ? { jobId: existing.id } : {}) });
    });
  } catch (error) {
    if (error instanceof SubmissionRefused) return reply.code(error.statusCode).send(error.body);
    throw error;
  }
  const { job } = submission;
  const jobId = job.id ?? setProfileJobId(username);
  const view = await waitIfAsked(options, request, reply, QUEUES.provisioning, job);
  if (view?.state === 'completed') {
    const result = setProfileJobResult.safeParse(view.result);
    if (result.success) return reply.code(200).send({ ...result.data, jobId });
  }
  if (view?.state === 'failed' && view.error) {
    const status = statusOfFailure(view.error.code);
    if (status === 404) return reply.code(404).send({ ...notFoundBody(username), jobId });
    return reply.code(status).send({ message: view.error.message, code: view.error.code, jobId });
  }
  const statusUrl = statusUrlOf(jobId);
  return reply.code(202).header('location', statusUrl).send({ jobId, statusUrl, username });
}
