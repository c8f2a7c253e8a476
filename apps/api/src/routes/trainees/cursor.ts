import { createHash, createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';
import type { TraineeWalk } from '@kup/core';
import { HttpError } from '../../http/http-error.js';

/** Where the next page starts, and in which list (`TRAINEE_WALKS`). */
export interface CursorPosition {
  offset: number;
  walk: TraineeWalk;
}

/**
 * The trainee list's opaque cursor: where the next page starts (and in which list), bound
 * to the filters it was made for, and signed (HMAC-SHA256, key derived from
 * RESULT_ENCRYPTION_KEY) so that a cursor edited or forged by hand is refused (400) instead
 * of being read somewhere else.
 */
export class CursorCodec {
  readonly #key: Buffer;

  /** `secret`: RESULT_ENCRYPTION_KEY; without one (tests), a key of this process only. */
  constructor(secret: string | undefined) {
    const material = secret ? Buffer.from(secret) : randomBytes(32);
    this.#key = Buffer.from(hkdfSync('sha256', material, Buffer.alloc(0), 'kup trainee-list cursor', 32));
  }

  encode(position: CursorPosition, filters: object): string {
    const walk = position.walk === 'managed' ? {} : { w: position.walk };
    const body = Buffer.from(JSON.stringify({ o: position.offset, ...walk, f: fingerprint(filters) })).toString('base64url');
    return `${body}.${this.#sign(body)}`;
  }

  /**
   * Where a cursor points; 400 `INVALID_CURSOR` when it was altered or made for other filters.
   * A cursor without a walk counts in the managed users' list (all cursors given before walks).
   */
  decode(cursor: string, filters: object): CursorPosition {
    const [body, signature, extra] = cursor.split('.');
    const expected = body ? Buffer.from(this.#sign(body)) : undefined;
    const given = Buffer.from(signature ?? '');
    if (!body || extra !== undefined || !expected || expected.length !== given.length || !timingSafeEqual(expected, given)) {
      throw new HttpError(400, 'cursor is not one this API gave out (altered or truncated): start again without it', 'INVALID_CURSOR');
    }
    const { o, w, f } = JSON.parse(Buffer.from(body, 'base64url').toString()) as { o: number; w?: TraineeWalk; f: string };
    if (f !== fingerprint(filters)) throw new HttpError(400, 'cursor was given for other filters: keep the filters of the first page, or start again without it', 'INVALID_CURSOR');
    return { offset: o, walk: w ?? 'managed' };
  }

  #sign(body: string): string {
    return createHmac('sha256', this.#key).update(body).digest('base64url');
  }
}

/** The filters, keys sorted, hashed: a cursor carries no filter values. */
function fingerprint(filters: object): string {
  const entries = Object.entries(filters).filter(([, value]) => value !== undefined).sort(([a], [b]) => (a < b ? -1 : 1));
  return createHash('sha256').update(JSON.stringify(entries)).digest('base64url').slice(0, 16);
}
