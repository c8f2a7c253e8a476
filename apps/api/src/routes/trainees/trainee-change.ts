import type { FastifyReply, FastifyRequest } from 'fastify';
import type { z } from 'zod';
import { QUEUES, statusOfFailure } from '@kup/core';
import { SubmissionRefused } from '../../jobs/create-policy.js';
import type { JobSubmitter } from '../../jobs/job-submitter.js';
import { waitIfAsked, type WaitIfAskedDeps } from '../../jobs/wait-if-asked.js';
import { statusUrlOf } from '../provisioner/index.js';
import { notFoundBody } from './schemas.js';

export interface TraineeChangeDeps extends WaitIfAskedDeps {
  submitter: Pick<JobSubmitter, 'submit'>;
}

export interface TraineeChange<Data extends { username: string }> {
  /** The job's name (`set-expiry`, `set-profile`, `reset-password`). */
  name: string;
  /** The trainee's fixed job id for this kind of change: one pending at a time. */
  jobId: string;
  data: Data;
  /** The field that makes two changes the same: a pending one asking the same is answered, another is a 409. */
  sameWhen: keyof Data & string;
  /** What the change is, for the 409's message ("expiry change"). */
  what: string;
  /** The 409's code. */
  pendingCode: string;
  /** The job's result, sent as the 200 (with its `jobId`) when the caller waited for it. */
  result: z.ZodType<object>;
}

/**
 * A per-trainee change as a job on the provisioning queue: the same change still pending is
 * answered with its job, another one is a 409; a finished or failed one is replaced. With
 * `Prefer: wait` the job's end is the answer (200 with its result, 404 for a trainee the
 * provisioner does not manage, the failure's status); otherwise 202 with the status URL.
 */
export async function submitTraineeChange<Data extends { username: string }>(
  deps: TraineeChangeDeps,
  request: FastifyRequest,
  reply: FastifyReply,
  change: TraineeChange<Data>,
) {
  const { username } = change.data;
  let submission: Awaited<ReturnType<typeof deps.submitter.submit>>;
  try {
    submission = await deps.submitter.submit(QUEUES.provisioning, change.name, change.jobId, change.data, async (existing, state) => {
      if (['completed', 'failed', 'unknown'].includes(state)) return 'replace';
      if ((existing.data as Record<string, unknown>)[change.sameWhen] === change.data[change.sameWhen]) return 'answer';
      throw new SubmissionRefused(409, {
        message: `another ${change.what} for "${username}" is still pending: try again when it has ended`,
        code: change.pendingCode,
        ...(existing.id ? { jobId: existing.id } : {}),
      });
    });
  } catch (error) {
    if (error instanceof SubmissionRefused) return reply.code(error.statusCode).send(error.body);
    throw error;
  }
  const { job } = submission;
  const jobId = job.id ?? change.jobId;
  const view = await waitIfAsked(deps, request, reply, QUEUES.provisioning, job);
  if (view?.state === 'completed') {
    const result = change.result.safeParse(view.result);
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
