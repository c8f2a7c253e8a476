import { randomInt } from 'node:crypto';

const LOWER = 'abcdefghijkmnopqrstuvwxyz';
const UPPER = 'ABCDEFGHJKLMNPQRSTUVWXYZ';
const DIGITS = '23456789';
const SYMBOLS = '-_.!~*+=%';
const ALL = LOWER + UPPER + DIGITS + SYMBOLS;

/**
 * A crypto-random password of `length` characters with at least one lowercase letter,
 * uppercase letter, digit and symbol, so it passes the usual Keycloak password
 * policies. Look-alike characters (l, I, O, 0, 1) are left out: trainees type it.
 */
export function generatePassword(length = 20): string {
  if (length < 12) throw new RangeError('a password needs at least 12 characters');
  const pick = (set: string) => set[randomInt(set.length)] as string;
  const chars = [pick(LOWER), pick(UPPER), pick(DIGITS), pick(SYMBOLS)];
  while (chars.length < length) chars.push(pick(ALL));
  for (let i = chars.length - 1; i > 0; i--) {
    const j = randomInt(i + 1);
    [chars[i], chars[j]] = [chars[j] as string, chars[i] as string];
  }
  // A spreadsheet reads a cell starting with = + - as a formula: a class's credentials CSV
  // (docs/cohorts.md) opened there must show the password as it is. Rotating keeps every character.
  const first = chars.findIndex((char) => !FORMULA_START.has(char));
  return [...chars.slice(first), ...chars.slice(0, first)].join('');
}

const FORMULA_START = new Set(['=', '+', '-']);
