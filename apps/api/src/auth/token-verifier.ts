import { timingSafeEqual } from 'node:crypto';

/**
 * Checks API tokens in constant time: every configured token is compared in full (no early
 * exit, and `timingSafeEqual` reads every byte), so timing tells nothing about which token,
 * or how much of one, matched. A candidate of another length is not compared with a token
 * (`timingSafeEqual` needs equal lengths): the token is compared with itself instead, so the
 * work is the same; what timing could tell is whether some token has the candidate's length,
 * and tokens are long random strings whose length is no secret. Earlier both sides were
 * hashed first, to compare 32 bytes whatever the lengths: one SHA-256 per request, the largest
 * piece of the API's own code in the P1 profile (docs/benchmarks.md).
 */
export class TokenVerifier {
  readonly #tokens: readonly Buffer[];

  constructor(tokens: readonly string[]) {
    if (tokens.length === 0) throw new RangeError('at least one API token is needed');
    this.#tokens = tokens.map((token) => Buffer.from(token, 'utf8'));
  }

  verify(candidate: string | undefined): boolean {
    if (!candidate) return false;
    const given = Buffer.from(candidate, 'utf8');
    let match = false;
    for (const known of this.#tokens) {
      const sameLength = given.length === known.length;
      match = (timingSafeEqual(sameLength ? given : known, known) && sameLength) || match;
    }
    return match;
  }
}

/**
 * The token an `Authorization` header carries: `Bearer <token>`, HTTP Basic whose
 * password is the token (browsers, for Bull Board), or the bare token (the old service's
 * style).
 */
export function tokenFromAuthorization(header: string | undefined): string | undefined {
  const value = header?.trim();
  if (!value) return undefined;
  const [scheme = '', rest = ''] = value.split(/\s+(.*)/s);
  if (/^bearer$/i.test(scheme)) return rest.trim() || undefined;
  if (/^basic$/i.test(scheme)) {
    const decoded = Buffer.from(rest.trim(), 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    return colon === -1 ? undefined : decoded.slice(colon + 1) || undefined;
  }
  return value;
}
