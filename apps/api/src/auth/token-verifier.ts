import { hash, timingSafeEqual } from 'node:crypto';

/** One-shot hashing: a fraction of `createHash`'s cost, paid on every request. */
const sha256 = (value: string): Buffer => hash('sha256', value, 'buffer');

/**
 * Checks API tokens in constant time. Both sides are hashed first, so the comparison
 * always runs over 32 bytes whatever the lengths, and every configured token is compared
 * (no early exit), so timing tells nothing about which one, or how much of one, matched.
 */
export class TokenVerifier {
  readonly #digests: readonly Buffer[];

  constructor(tokens: readonly string[]) {
    if (tokens.length === 0) throw new RangeError('at least one API token is needed');
    this.#digests = tokens.map(sha256);
  }

  verify(candidate: string | undefined): boolean {
    if (!candidate) return false;
    const digest = sha256(candidate);
    let match = false;
    for (const known of this.#digests) match = timingSafeEqual(digest, known) || match;
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
