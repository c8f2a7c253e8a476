import type { FastifyError, FastifyInstance } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { DifferentRunPendingError, EnqueueBusyError } from '@kup/core';
import { HttpError } from '../http/http-error.js';
import type { ErrorBody } from '../http/schemas.js';
import { registerProblemJson } from './problem-json.js';
import { EMAIL_AND_NAME_MISSING } from '../routes/provisioner/schemas.js';

interface ValidationIssue {
  instancePath?: string;
  message?: string;
  params?: { issue?: { path?: PropertyKey[] } };
}

function detailsOf(issues: readonly ValidationIssue[]): NonNullable<ErrorBody['details']> {
  return issues.map((issue) => {
    const fromIssue = issue.params?.issue?.path?.map(String).join('.');
    const fromPointer = issue.instancePath?.replace(/^\//, '').replaceAll('/', '.');
    return { path: fromIssue || fromPointer || '(body)', message: issue.message ?? 'invalid' };
  });
}

/**
 * The one error handler. Validation errors → 400 with field-level details; known 4xx
 * (ours and Fastify's: bad JSON, 413, 415) → their message and code; Redis unreachable
 * → 503 "Queue unavailable" (an `HttpError`, whose message is always chosen to be shown); anything else → a generic 500, logged with the request id.
 * Messages of 4xx never echo the body (Fastify's JSON error does not quote it either).
 * With `Accept: application/problem+json` every error body is a problem document (problem-json.ts).
 */
export function registerErrorHandler(app: FastifyInstance): void {
  // The same bodies as RFC 9457 problem documents for callers that ask (Accept).
  registerProblemJson(app);
  app.setErrorHandler<FastifyError>((error, request, reply) => {
    if (hasZodFastifySchemaValidationErrors(error)) {
      const details = detailsOf(error.validation);
      // A body with neither email nor full name gets the old service's sentence as its message.
      const message = details.length === 1 && details[0]?.message === EMAIL_AND_NAME_MISSING ? EMAIL_AND_NAME_MISSING : 'Invalid request';
      const body: ErrorBody = { message, code: 'INVALID_REQUEST', details };
      return reply.code(400).send(body);
    }
    // Another producer held the replace lock of the same job id too long (enqueueUnique): retry.
    if (error instanceof EnqueueBusyError) return reply.code(503).send({ message: error.message, code: 'BUSY' } satisfies ErrorBody);
    // A run under the same id is pending for a different request (fleet run, cohort): nothing was enqueued.
    if (error instanceof DifferentRunPendingError) return reply.code(409).send({ message: error.message, code: error.code, jobId: error.jobId });
    if (error instanceof HttpError) {
      if (error.statusCode >= 500) request.log.warn({ err: error.cause ?? error, code: error.code }, error.message);
      return reply.code(error.statusCode).send({ message: error.message, ...(error.code ? { code: error.code } : {}) } satisfies ErrorBody);
    }
    // Fastify's own sentence names the type but not what to send (curl -d sends a form).
    if (error.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return reply.code(415).send(unsupportedMediaType(request.headers['content-type'], request.routeOptions.url));
    const status = error.statusCode ?? 500;
    if (status >= 400 && status < 500) {
      const body: ErrorBody = { message: error.message, ...(error.code ? { code: error.code } : {}) };
      return reply.code(status).send(body);
    }
    request.log.error({ err: error }, 'request failed');
    return reply.code(status >= 500 && status <= 599 ? status : 500).send({ message: 'Internal error' } satisfies ErrorBody);
  });

  app.setNotFoundHandler((request, reply) => {
    reply.code(404).send({ message: `Route ${request.method} ${request.url.split('?')[0]} not found`, code: 'NOT_FOUND' } satisfies ErrorBody);
  });
}

/** What a body of another type should have been: JSON everywhere, CSV too for a cohort. */
function unsupportedMediaType(sent: string | undefined, route: string | undefined): ErrorBody {
  const wanted = route === '/cohorts' ? 'application/json or text/csv' : 'application/json';
  const type = sent?.split(';')[0]?.trim() || 'none';
  return { message: `Unsupported Content-Type ${type}: send the body as ${wanted} (with curl: -H 'Content-Type: ${wanted.split(' ')[0]}')`, code: 'UNSUPPORTED_MEDIA_TYPE' };
}
