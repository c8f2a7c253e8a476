import { domainToASCII } from 'node:url';
import { z } from 'zod';
import { MAX_EMAIL_LOCAL_PART } from './identity.js';

/**
 * Email addresses as people have them (RFC 6531): a UTF-8 local part and an internationalized
 * domain, like `Émilie.Durand@example.fr` — Keycloak 26 creates users with them. What is not
 * an address is still refused: no `@`, spaces, control characters, over 254 bytes.
 */

/** RFC 5321: a path is at most 256 octets with its angle brackets, so an address 254. */
export const MAX_EMAIL_BYTES = 254;

// RFC 5322 atext, widened by RFC 6531 to any non-ASCII character (the forbidden ones are
// refused before this applies). A dot-atom: atoms joined by single dots.
const ATEXT = "[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]|[^\\x00-\\x7F]";
const DOT_ATOM = new RegExp(`^(?:${ATEXT})+(?:\\.(?:${ATEXT})+)*$`, 'u');
const FORBIDDEN = /[\p{Cc}\p{Cs}\p{White_Space}]/u;
const ASCII_LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/**
 * Why `value` is not an address, or undefined. `strictLocal`: what Keycloak wants of a new
 * user's address (a dot-atom of at most MAX_EMAIL_LOCAL_PART characters, identity.ts).
 */
export function emailAddressProblem(value: string, strictLocal: boolean): string | undefined {
  if (FORBIDDEN.test(value)) return 'holds a space or a control character';
  if (Buffer.byteLength(value, 'utf8') > MAX_EMAIL_BYTES) return `is over ${MAX_EMAIL_BYTES} bytes`;
  const at = value.lastIndexOf('@');
  if (at === -1) return 'has no @';
  const local = value.slice(0, at);
  const domain = value.slice(at + 1);
  if (local.length === 0) return 'has nothing before the @';
  if (local.includes('@')) return 'has more than one @';
  if (strictLocal) {
    if (local.length > MAX_EMAIL_LOCAL_PART) return `has a part before the @ over ${MAX_EMAIL_LOCAL_PART} characters`;
    if (!DOT_ATOM.test(local)) return 'has a part before the @ that is not a dot-atom (a leading, trailing or double dot, or a character such as ; , " ( ) < > [ ] : \\)';
  }
  return validDomain(domain) ? undefined : 'has no valid domain after the @';
}

/**
 * Verdicts on domains seen, bounded: a create checks its address twice (request body, job
 * data) and nearly every address of a deployment shares a few domains, so the UTS #46
 * conversion runs once per domain rather than twice per request (docs/benchmarks.md, P1).
 */
const domainVerdicts = new Map<string, boolean>();
const MAX_DOMAIN_VERDICTS = 1_000;

function validDomain(domain: string): boolean {
  let valid = domainVerdicts.get(domain);
  if (valid === undefined) {
    // UTS #46 (as browsers do): `exämple.de` → `xn--exmple-cua.de`; '' when not a domain name.
    const ascii = domainToASCII(domain);
    valid = ascii !== '' && ascii.length <= 253 && ascii.split('.').every((label) => ASCII_LABEL.test(label));
    if (domainVerdicts.size >= MAX_DOMAIN_VERDICTS) domainVerdicts.clear();
    domainVerdicts.set(domain, valid);
  }
  return valid;
}

const addressSchema = (strictLocal: boolean) =>
  z.string().superRefine((value, ctx) => {
    const problem = emailAddressProblem(value, strictLocal);
    if (problem) ctx.addIssue({ code: 'custom', message: `not a valid email address: it ${problem}` });
  });

/** An address a new user is created with (Keycloak's rules: its local part is a dot-atom). */
export const emailAddress = addressSchema(true);

/**
 * An address to find an existing trainee by: the old service created users whose address
 * Keycloak 26 would now refuse (`first..last@…`), and they must still be found to be deleted.
 */
export const emailAddressToFind = addressSchema(false);
