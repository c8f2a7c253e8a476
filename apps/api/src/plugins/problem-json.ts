import { STATUS_CODES } from 'node:http';
import type { FastifyInstance, FastifyReply } from 'fastify';

export const PROBLEM_JSON = 'application/problem+json';

/**
 * Problem types are our error codes under a tag URI (RFC 4151): they name the problem,
 * they are not links (RFC 9457 §3.1.1 warns clients against dereferencing them).
 */
export const PROBLEM_TYPE_PREFIX = 'tag:k8s-user-provisioner,2026:problem:';

/**
 * Whether the caller asks for RFC 9457 problem documents: its Accept header names
 * `application/problem+json` at least as strongly as `application/json`. Wildcards and a
 * missing header keep the old `{message, code}` body, so old callers see no change.
 */
export function acceptsProblem(accept: string | undefined): boolean {
  if (!accept) return false;
  let problem = 0;
  let json = 0;
  for (const range of accept.split(',')) {
    const [type = '', ...params] = range.split(';').map((part) => part.trim().toLowerCase());
    const q = params.find((p) => p.startsWith('q='));
    const weight = q === undefined ? 1 : Number(q.slice(2));
    if (!Number.isFinite(weight)) continue;
    if (type === PROBLEM_JSON) problem = Math.max(problem, weight);
    else if (type === 'application/json') json = Math.max(json, weight);
  }
  return problem > 0 && problem >= json;
}

export interface ProblemDocument {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance: string;
  [extension: string]: unknown;
}

/**
 * An error body as a problem document. The old members (`message`, `code`, `details`,
 * `jobId`) stay as extension members, so a client written for either shape reads it.
 */
export function toProblem(body: Record<string, unknown>, status: number, instance: string): ProblemDocument {
  const code = typeof body.code === 'string' && body.code ? body.code : undefined;
  const title = STATUS_CODES[status] ?? 'Error';
  return {
    ...body,
    // about:blank: "no more than the status code says" (RFC 9457 §4.2.1), so its title is the status phrase.
    type: code ? `${PROBLEM_TYPE_PREFIX}${code}` : 'about:blank',
    title,
    status,
    detail: typeof body.message === 'string' ? body.message : title,
    instance,
  };
}

function varyOnAccept(reply: FastifyReply): void {
  const vary = String(reply.getHeader('vary') ?? '');
  if (!/(^|,)\s*(accept|\*)\s*(,|$)/i.test(vary)) reply.header('vary', vary ? `${vary}, Accept` : 'Accept');
}

/**
 * Rewrites every JSON error answer (4xx, 5xx: the error handler's, the 404 handler's, the
 * auth hook's, the routes' own) as `application/problem+json` when the caller asks for it.
 * An `onSend` hook on the root, after serialization: one place for every sender, and the
 * routes' response schemas (which would drop unknown members) stay as they are.
 */
export function registerProblemJson(app: FastifyInstance): void {
  app.addHook('onSend', async (request, reply, payload) => {
    if (reply.statusCode < 400 || typeof payload !== 'string') return payload;
    if (!String(reply.getHeader('content-type') ?? '').startsWith('application/json')) return payload;
    varyOnAccept(reply);
    if (!acceptsProblem(request.headers.accept)) return payload;
    let body: unknown;
    try {
      body = JSON.parse(payload);
    } catch {
      return payload;
    }
    if (!body || typeof body !== 'object' || Array.isArray(body)) return payload;
    const instance = request.url.split('?')[0] ?? request.url;
    reply.header('content-type', `${PROBLEM_JSON}; charset=utf-8`);
    return JSON.stringify({ ...toProblem(body as Record<string, unknown>, reply.statusCode, instance), requestId: request.id });
  });
}
