import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { TokenVerifier, tokenFromAuthorization } from '../auth/token-verifier.js';
import type { ErrorBody } from '../http/schemas.js';
import { TOO_MANY, clientKey, type FailedAuthLimiter } from './auth-rate-limit.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Served without a token (liveness, readiness). */
    public?: boolean;
  }
}

export const BASIC_REALM = 'k8s-user-provisioner';
const UNAUTHORIZED: ErrorBody = { message: 'Please submit a valid token' };

/** What the caller's token lets it do: `api` (an API token), `admin` (a Bull Board admin token, on admin paths only). */
export type AuthRole = 'api' | 'admin';

/** The role the auth hook gave a request; undefined on public routes or before the hook. */
const roles = new WeakMap<FastifyRequest, AuthRole>();
export const authRoleOf = (request: FastifyRequest): AuthRole | undefined => roles.get(request);

export interface AuthOptions {
  tokens: readonly string[];
  /** Tokens accepted on `adminPrefix` only, with the `admin` role (BULL_BOARD_ADMIN_TOKENS). */
  adminTokens?: readonly string[];
  /** Where admin tokens are accepted (Bull Board's mount). */
  adminPrefix?: string;
  /** Path prefixes served without a token, besides routes marked `config.public`. */
  publicPrefixes?: readonly string[];
  /** Counts failed authentications and refuses (429) clients over the limit. */
  failures?: Pick<FailedAuthLimiter, 'fail'>;
  /**
   * A client over the limit is refused even with a valid token, until its window ends. For a
   * guessable token (shorter than MIN_API_TOKEN_LENGTH, taken only through the old
   * VERIFICATION_TOKEN): otherwise the limit answers wrong guesses 429 and the right one 200,
   * and does not slow the guessing at all. Off for strong tokens, so a flood of bad tokens
   * behind a shared address locks no one out.
   */
  lockOutLimited?: boolean;
}

const MAX_LOCKED_CLIENTS = 10_000;

const under = (path: string, prefix: string) => path === prefix || path.startsWith(`${prefix}/`);

/**
 * Every route needs an API token unless it is marked public. `/admin/*` (Bull Board, used
 * from a browser) also challenges for HTTP Basic auth, whose password is a token, and
 * there a Bull Board admin token is accepted too. A request with a valid token is never
 * refused here (unless `lockOutLimited`); a wrong token is counted (before it is answered) and answered 401, or 429
 * once its client is over the limit; a request with no credential at all is answered 401. Registered on the root instance so it covers routes
 * added by plugins too.
 */
export function registerAuth(app: FastifyInstance, options: AuthOptions): void {
  const verifier = new TokenVerifier(options.tokens);
  /** Clients over the limit, until when (this replica's view: its own failures' verdicts). */
  const lockedUntil = new Map<string, number>();
  const locked = (ip: string): number | undefined => {
    if (!options.lockOutLimited || lockedUntil.size === 0) return undefined;
    const client = clientKey(ip);
    const until = lockedUntil.get(client);
    if (until === undefined) return undefined;
    if (until > Date.now()) return until;
    lockedUntil.delete(client);
    return undefined;
  };
  const admins = options.adminTokens?.length ? new TokenVerifier(options.adminTokens) : undefined;
  const publicPrefixes = options.publicPrefixes ?? [];

  // `request.routeOptions` builds a new object each time it is read: read once per request.
  const isPublic = ({ config, url: route }: FastifyRequest['routeOptions']): boolean => {
    if (config.public) return true;
    return route !== undefined && publicPrefixes.some((prefix) => route === prefix || route.startsWith(`${prefix}/`));
  };

  /** Whether the token is valid where the request goes (`route`, the matched pattern), and with which role. */
  const verified = (request: FastifyRequest, route: string | undefined, token: string | undefined): boolean => {
    // The matched route, not the raw URL: an admin token opens Bull Board's routes and nothing else.
    const onAdminPath = options.adminPrefix !== undefined && route !== undefined && under(route, options.adminPrefix);
    // On admin paths both verifiers run, so timing does not tell which kind of token matched.
    const api = verifier.verify(token);
    const admin = onAdminPath && admins !== undefined && admins.verify(token);
    if (admin || api) roles.set(request, admin ? 'admin' : 'api');
    return admin || api;
  };

  const refuse = async (request: FastifyRequest, reply: FastifyReply, token: string | undefined): Promise<void> => {
    if (request.url.startsWith('/admin/') || request.url === '/admin') {
      reply.header('www-authenticate', `Basic realm="${BASIC_REALM}", charset="UTF-8"`);
    }
    // Only a credential that was tried counts: a browser's first request to Bull Board
    // carries none until it is challenged (401 + WWW-Authenticate), and that is no guess.
    const verdict = token === undefined ? undefined : await options.failures?.fail(request.ip);
    if (verdict?.limited && options.lockOutLimited) {
      if (lockedUntil.size >= MAX_LOCKED_CLIENTS) lockedUntil.clear();
      lockedUntil.set(clientKey(request.ip), Date.now() + verdict.retryAfterSeconds * 1000);
    }
    if (verdict?.limited) reply.code(429).header('retry-after', String(verdict.retryAfterSeconds)).send(TOO_MANY);
    else reply.code(401).send(UNAUTHORIZED);
  };

  // `done` rather than async: an allowed request (nearly all of them) makes no promise here;
  // a refused one is answered without calling `done`, which ends it.
  app.addHook('onRequest', (request, reply, done) => {
    const route = request.routeOptions;
    if (isPublic(route)) return done();
    const until = locked(request.ip);
    if (until !== undefined) {
      reply.code(429).header('retry-after', String(Math.max(1, Math.ceil((until - Date.now()) / 1000)))).send(TOO_MANY);
      return;
    }
    const token = tokenFromAuthorization(request.headers.authorization);
    if (verified(request, route.url, token)) return done();
    refuse(request, reply, token).catch(done);
  });
}
