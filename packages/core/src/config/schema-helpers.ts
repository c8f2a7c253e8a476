import { z } from 'zod';
import { MIN_API_TOKEN_LENGTH } from './legacy-env.js';

/** Zod building blocks shared by the settings' topic modules. */

export const bool = (fallback: boolean) =>
  z
    .enum(['true', 'false', '1', '0', 'yes', 'no'])
    .default(fallback ? 'true' : 'false')
    .transform((v) => v === 'true' || v === '1' || v === 'yes');

export const int = (fallback: number, min = 0, max = Number.MAX_SAFE_INTEGER) => z.coerce.number().int().min(min).max(max).default(fallback);

export const url = z.url({ protocol: /^https?$/ });
export const quantity = z.string().regex(/^[0-9]+(\.[0-9]+)?(m|Ki|Mi|Gi|Ti|k|M|G|T)?$/, 'not a Kubernetes quantity');
export const hostPorts = z
  .string()
  .regex(/^\s*(\[[^\]]+\]|[^:\s,]+):\d{1,5}\s*(,\s*(\[[^\]]+\]|[^:\s,]+):\d{1,5}\s*)*$/, 'must be host:port,host:port');
export const cron = z.string().regex(/^(\S+\s+){4}\S+$|^(\S+\s+){5}\S+$/, 'not a cron pattern of 5 or 6 fields');
/** A time zone the runtime knows: BullMQ's cron parser resolves zones with the same Intl data, so a typo fails at boot, not at the first schedule. */
export const timeZone = z.string().refine((tz) => {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}, 'not a known IANA time zone (e.g. UTC, Europe/Paris)');

/**
 * A value copied from the shipped examples (k8s/overlays/example's `replace-me…`, or a
 * placeholder such as `changeme`) or an all-zero key: a deployment that keeps one is open
 * to anyone who has read the repository. Refused at boot.
 */
export function isExampleSecret(value: string): boolean {
  if (/replace[-_ ]?me|change[-_ ]?me/i.test(value)) return true;
  const bytes = /^[0-9a-f]{64}$/i.test(value) ? Buffer.from(value, 'hex') : Buffer.from(value, 'base64');
  // A key (≥ 16 bytes once decoded) of zeros: `openssl rand` was never run.
  return bytes.length >= 16 && bytes.every((b) => b === 0);
}
export const EXAMPLE_SECRET = 'is a shipped example or placeholder value (replace-me…, all-zero key): generate a random one';
export const notExample = (value: string) => !isExampleSecret(value);

/**
 * Comma-separated tokens, at least `minCount` of them, each ≥ `minLength` characters (16;
 * less only for the old VERIFICATION_TOKEN, see legacy-env.ts) and none a shipped example.
 */
export const tokenList = (minCount: number, minLength = MIN_API_TOKEN_LENGTH) =>
  z
    .string()
    .transform((raw) => raw.split(',').map((t) => t.trim()).filter(Boolean))
    .pipe(
      z
        .array(z.string().min(minLength, `each token needs at least ${minLength} characters`).refine(notExample, EXAMPLE_SECRET))
        .min(minCount, 'at least one token'),
    );
