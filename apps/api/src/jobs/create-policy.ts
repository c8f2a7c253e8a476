import type { Job } from 'bullmq';
import { deleteJobId, sameTrainee, secretKeyOf, type CreateJobData } from '@kup/core';
import type { ExistingJobPolicy } from './job-submitter.js';

/** A create the API refuses at once, with the body to answer (never another identity's job id). */
export class SubmissionRefused extends Error {
  constructor(
    readonly statusCode: 409,
    readonly body: { message: string; code?: string; jobId?: string },
  ) {
    super(body.message);
    this.name = 'SubmissionRefused';
  }
}

export interface CreatePolicyDeps {
  /** The provisioning queue's job of that id, if any. */
  getJob(jobId: string): Promise<Job | undefined>;
  /** Whether the job's sealed password can still be read (its TTL has not purged it). */
  passwordReadable(jobKey: string): Promise<boolean>;
}

const FINISHED = new Set(['completed', 'failed', 'unknown']);

function heldBy(job: Job): { email?: string; fullName?: string } {
  const data = (job.data ?? {}) as { email?: unknown; fullName?: unknown };
  return {
    ...(typeof data.email === 'string' ? { email: data.email } : {}),
    ...(typeof data.fullName === 'string' ? { fullName: data.fullName } : {}),
  };
}

/**
 * Who may use a create job found under `create-<username>`. The job holds the username for
 * the trainee it was made for, until a delete of that username finishes after it:
 * - another identity (email, or full name when both give one) → 409 USERNAME_CONFLICT at
 *   once, and the job, its id and its password stay the first trainee's;
 * - the same trainee, job unfinished → the same job (a retried POST);
 * - the same trainee, job completed with a password still readable → 409 USER ALREADY EXIST,
 *   and the job and its sealed password are kept for the caller who has not read it yet;
 * - otherwise (failed, no password issued, password purged, or deleted since) → replaced,
 *   and the worker decides against Keycloak.
 */
export function createJobPolicy(deps: CreatePolicyDeps, request: CreateJobData): ExistingJobPolicy {
  return async (existing, state) => {
    const finished = FINISHED.has(state);
    if (finished && (await deletedSince(deps, request.username, existing))) return 'replace';
    if (!sameTrainee(heldBy(existing), request)) {
      throw new SubmissionRefused(409, {
        message: `username "${request.username}" already belongs to another trainee (another email or full name)`,
        code: 'USERNAME_CONFLICT',
      });
    }
    if (!finished) return 'answer';
    const result = existing.returnvalue as { passwordIssued?: unknown } | null | undefined;
    if (state === 'completed' && result?.passwordIssued === true && (await deps.passwordReadable(secretKeyOf(existing)))) {
      throw new SubmissionRefused(409, { message: 'USER ALREADY EXIST', ...(existing.id ? { jobId: existing.id } : {}) });
    }
    return 'replace';
  };
}

/** A delete of the username completed after the create finished: the name is free again. */
async function deletedSince(deps: CreatePolicyDeps, username: string, create: Job): Promise<boolean> {
  const deletion = await deps.getJob(deleteJobId(username));
  if (!deletion?.finishedOn || deletion.finishedOn < (create.finishedOn ?? create.timestamp)) return false;
  return (await deletion.getState()) === 'completed';
}
