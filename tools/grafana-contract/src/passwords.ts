// Password hashing as Grafana stores passwords (pkg/util EncodePassword): PBKDF2-SHA256,
// 10,000 iterations, 50 bytes, with a random salt, so the stand-in costs about what Grafana
// costs per user. Stored as `pbkdf2-sha256$<saltHex>$<hashHex>`; any other form never verifies.
import { createHash, pbkdf2 as pbkdf2Cb, pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';

const pbkdf2 = promisify(pbkdf2Cb);

const SCHEME = 'pbkdf2-sha256';
const ITERATIONS = 10_000;
const KEYLEN = 50;
const SALT_BYTES = 10;

function encode(salt: Buffer, hash: Buffer): string {
  return `${SCHEME}$${salt.toString('hex')}$${hash.toString('hex')}`;
}

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  return encode(salt, await pbkdf2(password, salt, ITERATIONS, KEYLEN, 'sha256'));
}

/** For start-up only (the admin's configured password), before the server takes requests. */
export function hashPasswordSync(password: string): string {
  const salt = randomBytes(SALT_BYTES);
  return encode(salt, pbkdf2Sync(password, salt, ITERATIONS, KEYLEN, 'sha256'));
}

// Successful verifications are remembered (per stored hash) so that every admin request
// does not pay for a full key derivation; a changed password changes the stored hash.
const verified = new Map<string, string>();

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const digest = createHash('sha256').update(password).digest('hex');
  if (verified.get(stored) === digest) return true;
  const [scheme, saltHex, hashHex] = stored.split('$');
  if (scheme !== SCHEME || saltHex === undefined || hashHex === undefined) return false;
  const expected = Buffer.from(hashHex, 'hex');
  const actual = await pbkdf2(password, Buffer.from(saltHex, 'hex'), ITERATIONS, expected.length, 'sha256');
  const ok = actual.length === expected.length && timingSafeEqual(actual, expected);
  if (ok) {
    if (verified.size > 10_000) verified.clear();
    verified.set(stored, digest);
  }
  return ok;
}
