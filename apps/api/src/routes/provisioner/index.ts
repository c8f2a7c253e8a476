import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import {
  createJobData,
  createJobId,
  deleteJobData,
  deleteJobId,
  deleteJobResult,
  deriveUsername,
  JOBS,
  QUEUES,
  reservedBy,
  statusOfFailure,
  unknownProfileMessage,
  BUILT_IN_PROFILE_NAMES,
  usernameCandidates,
} from '@kup/core';
import { HttpError } from '../../http/http-error.js';
import { bodyErrors } from '../../http/schemas.js';
import { createResultView } from '../../jobs/job-view.js';
import { waitIfAsked, type WaitIfAskedDeps } from '../../jobs/wait-if-asked.js';
import type { JobSubmitter } from '../../jobs/job-submitter.js';
import { createJobPolicy, SubmissionRefused, type CreatePolicyDeps } from '../../jobs/create-policy.js';
import { accepted, created, createBody, deleteBody, deleted, jobFailed, notFound, preferHeaders } from './schemas.js';

export interface ProvisionerRoutesOptions extends WaitIfAskedDeps {
  submitter: Pick<JobSubmitter, 'submit'>;
  /** Who holds a username (create-policy.ts); without it, finished jobs are simply replaced. */
  holders?: CreatePolicyDeps;
  /** RESERVED_NAMESPACES: refused before anything is enqueued. */
  reservedNamespaces?: readonly string[];
  /** The quota profile names a create may ask for (built-in and QUOTA_PROFILES_FILE's). */
  quotaProfiles?: readonly string[];
}

const NO_USERNAME = 'email and full_name give an empty username: they need at least one letter or digit';

export const statusUrlOf = (jobId: string): string => `/jobs/${encodeURIComponent(jobId)}`;

/** The old service's 404 sentence (its callers may match it). */
export const notFoundMessage = (username: string): string => `No provisioned user found with username: ${username}`;

/**
 * `POST /provisioner` and `DELETE /provisioner`: validate, derive the username, enqueue
 * (deduplicated by job id), answer 202, or with `Prefer: wait` hold the request until the
 * job ends and answer as the old synchronous service did.
 */
export const provisionerRoutes: FastifyPluginAsyncZod<ProvisionerRoutesOptions> = async (app, options) => {
  const { submitter } = options;

  app.post(
    '/provisioner',
    {
      schema: {
        tags: ['provisioning'],
        summary: 'Create a trainee playground (namespace, Keycloak user, Grafana user)',
        headers: preferHeaders,
        body: createBody,
        response: { 200: created, 202: accepted, 404: jobFailed, 409: jobFailed, 502: jobFailed, ...bodyErrors },
      },
    },
    async (request, reply) => {
      const { email, full_name: fullName, expiresAt, profile, welcome } = request.body;
      const username = deriveUsername({ email, fullName });
      if (!username) throw new HttpError(400, NO_USERNAME, 'INVALID_USERNAME');
      const profiles = options.quotaProfiles ?? BUILT_IN_PROFILE_NAMES;
      if (profile !== undefined && !profiles.includes(profile)) throw new HttpError(400, unknownProfileMessage(profile, profiles), 'UNKNOWN_PROFILE');
      const data = createJobData.safeParse({ username, email, fullName, expiresAt, profile, ...(welcome ? { welcome } : {}) });
      if (!data.success) throw new HttpError(400, `cannot provision "${username}": ${data.error.issues[0]?.message}`, 'INVALID_INPUT');
      // The namespace is the username: a platform name is refused before anything is queued.
      const reserved = reservedBy(username, options.reservedNamespaces ?? []);
      if (reserved !== undefined) {
        throw new HttpError(409, `namespace "${username}" is reserved for the platform (RESERVED_NAMESPACES: ${reserved}); use another email or full name`, 'NAMESPACE_RESERVED');
      }

      let submission: Awaited<ReturnType<typeof submitter.submit>>;
      try {
        const policy = options.holders ? createJobPolicy(options.holders, data.data) : undefined;
        submission = await submitter.submit(QUEUES.provisioning, JOBS.create, createJobId(username), data.data, policy);
      } catch (error) {
        if (error instanceof SubmissionRefused) return reply.code(error.statusCode).send(error.body);
        throw error;
      }
      const { job } = submission;
      const jobId = job.id ?? createJobId(username);
      const view = await waitIfAsked(options, request, reply, QUEUES.provisioning, job);

      if (view?.state === 'completed') {
        const result = createResultView.safeParse(view.result);
        if (result.success && result.data.alreadyProvisioned) return reply.code(409).send({ message: 'USER ALREADY EXIST', jobId });
        if (result.success) {
          const { userId, password, username: name } = result.data;
          reply.header('cache-control', 'no-store'); // carries a password
          return reply.code(200).send({ message: 'User has been successfully created', user_id: userId, password, username: name, jobId });
        }
      }
      if (view?.state === 'failed' && view.error) {
        return reply.code(statusOfFailure(view.error.code)).send({ message: view.error.message, code: view.error.code, jobId });
      }
      const statusUrl = statusUrlOf(jobId);
      return reply.code(202).header('location', statusUrl).send({ jobId, statusUrl, username });
    },
  );

  app.delete(
    '/provisioner',
    {
      schema: {
        tags: ['provisioning'],
        summary: 'Delete a trainee playground (tries the email-derived username, then the name-derived one)',
        headers: preferHeaders,
        body: deleteBody,
        response: { 200: deleted, 202: accepted, 404: notFound, 409: jobFailed, 502: jobFailed, ...bodyErrors },
      },
    },
    async (request, reply) => {
      const { email, full_name: fullName } = request.body;
      const usernames = usernameCandidates({ email, fullName });
      const [username] = usernames;
      if (!username) throw new HttpError(400, NO_USERNAME, 'INVALID_USERNAME');
      // The email goes with them: a username held by another email's trainee is not deleted.
      const data = deleteJobData.safeParse({ usernames, ...(email !== undefined ? { email } : {}) });
      if (!data.success) throw new HttpError(400, `cannot delete "${username}": ${data.error.issues[0]?.message}`, 'INVALID_INPUT');

      const { job } = await submitter.submit(QUEUES.provisioning, JOBS.delete, deleteJobId(username), data.data);
      const jobId = job.id ?? deleteJobId(username);
      const view = await waitIfAsked(options, request, reply, QUEUES.provisioning, job);

      if (view?.state === 'completed') {
        const result = deleteJobResult.safeParse(view.result);
        if (result.success) {
          const { found, userId, username: name } = result.data;
          // Deleting someone who does not exist is an error (the job itself completes, `found: false`).
          if (!found) return reply.code(404).send({ message: notFoundMessage(name), code: 'USER_NOT_FOUND', username: name, jobId });
          return reply.code(200).send({ message: 'User has been deleted successfully', user_id: userId, username: name, jobId });
        }
      }
      if (view?.state === 'failed' && view.error) {
        return reply.code(statusOfFailure(view.error.code)).send({ message: view.error.message, code: view.error.code, jobId });
      }
      const statusUrl = statusUrlOf(jobId);
      return reply.code(202).header('location', statusUrl).send({ jobId, statusUrl, username });
    },
  );
};
