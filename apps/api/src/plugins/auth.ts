import type { FastifyInstance } from 'fastify';
import { TokenVerifier, tokenFromAuthorization } from '../auth/token-verifier.js';
import type { ErrorBody } from '../http/schemas.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Served without a token (liveness, readiness). */
    public?: boolean;
  }
}

export const BASIC_REALM = 'k8s-user-provisioner';
const UNAUTHORIZED: ErrorBody = { message: 'Please submit a valid token' };

export interface AuthOptions {
  tokens: readonly string[];
  /** Path prefixes served without a token, besides routes marked `config.public`. */
  publicPrefixes?: readonly string[];
}

/**
 * Every route needs an API token unless it is marked public. `/admin/*` (Bull Board, used
 * from a browser) also challenges for HTTP Basic auth, whose password is a token.
 * Registered on the root instance so it covers routes added by plugins too.
 */
export function registerAuth(app: FastifyInstance, options: AuthOptions): void {
  const verifier = new TokenVerifier(options.tokens);
  const publicPrefixes = options.publicPrefixes ?? [];

  app.addHook('onRequest', async (request, reply) => {
    if (request.routeOptions.config.public) return;
    const route = request.routeOptions.url;
    if (route !== undefined && publicPrefixes.some((prefix) => route === prefix || route.startsWith(`${prefix}/`))) return;
    if (verifier.verify(tokenFromAuthorization(request.headers.authorization))) return;
    if (request.url.startsWith('/admin/') || request.url === '/admin') {
      reply.header('www-authenticate', `Basic realm="${BASIC_REALM}", charset="UTF-8"`);
    }
    return reply.code(401).send(UNAUTHORIZED);
  });
}
