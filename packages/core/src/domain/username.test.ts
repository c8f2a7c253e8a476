import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  deriveUsername,
  isValidUsername,
  MAX_USERNAME_LENGTH,
  usernameCandidates,
  usernameFromEmail,
  usernameFromFullName,
} from './username.js';
import { oldUsernames } from '../../test/fixtures/old-usernames.js';

describe('usernameFromEmail (the old rule: local part, dots to _, slugified)', () => {
  it.each([
    ['Jean.Dupont@x.io', 'jean-dupont'],
    ['Émilie.Durand@x.io', 'emilie-durand'],
    ['jean_dupont@x.io', 'jean-dupont'],
    ['JeanDupont@x.io', 'jeandupont'], // python-slugify does not split camelCase
    ['a&b@x.io', 'a-b'], // `&` is a separator, not "and"
    ['a+tag@x.io', 'a-tag'],
    ['Zoë..Ñuñez@x.io', 'zoe-nunez'], // runs of separators collapse to one `-`
    ['ß@x.io', 'ss'],
    ['Ørsted@x.io', 'orsted'],
    ['1234@x.io', '1234'],
    ['x@y@z.io', 'x-y'], // the domain is what follows the last `@`
    ['no-at-sign', 'no-at-sign'],
    ['.jean.@x.io', 'jean'], // no leading or trailing `-`
    ['..@x.io', ''],
    ['日本@x.io', 'ri-ben'], // text-unidecode transliterates CJK too
    ['müller@x.io', 'muller'], // not `mueller`: the old table, not German rules
    ['😀@x.io', ''], // past U+FFFF the old table has nothing
  ])('%s → %s', (email, expected) => {
    expect(usernameFromEmail(email)).toBe(expected);
  });
});

describe('the old service\'s usernames (old-usernames.tsv, made by python-slugify 8.0.1 + text-unidecode 1.3)', () => {
  const rows = oldUsernames();

  it('reads every row of the file', () => {
    expect(rows.length).toBeGreaterThanOrEqual(76);
  });

  it.each(rows)('$field $input → $expected', ({ field, input, expected }) => {
    const derived = field === 'email' ? usernameFromEmail(input) : usernameFromFullName(input);
    expect(derived).toBe(expected);
    expect(deriveUsername(field === 'email' ? { email: input } : { fullName: input })).toBe(expected || undefined);
  });
});

describe('usernameFromFullName (spaces to _, lowercased, slugified)', () => {
  it.each([
    ['Émilie Durand', 'emilie-durand'],
    ['  Jean   Dupont ', 'jean-dupont'],
    ['Jean-Dupont', 'jean-dupont'],
    ['Zoë Ñuñez', 'zoe-nunez'],
    ["Seán O'Brien", 'sean-o-brien'],
    ['!!!', ''],
    ['', ''],
  ])('%s → %s', (name, expected) => {
    expect(usernameFromFullName(name)).toBe(expected);
  });
});

describe('length', () => {
  it('cuts long inputs to 63 characters', () => {
    const name = usernameFromEmail(`${'a'.repeat(100)}@x.io`);
    expect(name).toBe('a'.repeat(MAX_USERNAME_LENGTH));
    expect(usernameFromFullName(`${'b'.repeat(70)} c`)).toBe('b'.repeat(MAX_USERNAME_LENGTH));
  });

  it('does not leave a trailing `-` where the cut falls on a separator', () => {
    // 62 letters then `.b`: the 63rd character is the separator.
    const name = usernameFromEmail(`${'a'.repeat(62)}.b@x.io`);
    expect(name).toBe('a'.repeat(62));
    expect(isValidUsername(name)).toBe(true);
  });
});

describe('usernameCandidates / deriveUsername', () => {
  it('puts the email-derived name first, then the full-name-derived one', () => {
    expect(usernameCandidates({ email: 'jdupont@x.io', fullName: 'Jean Dupont' })).toEqual(['jdupont', 'jean-dupont']);
    expect(deriveUsername({ email: 'jdupont@x.io', fullName: 'Jean Dupont' })).toBe('jdupont');
  });

  it('falls back to the full name without an email', () => {
    expect(usernameCandidates({ fullName: 'Émilie Durand' })).toEqual(['emilie-durand']);
    expect(deriveUsername({ email: undefined, fullName: 'Émilie Durand' })).toBe('emilie-durand');
    expect(deriveUsername({ email: '', fullName: 'Émilie Durand' })).toBe('emilie-durand');
  });

  it('lists a name once when email and full name agree', () => {
    expect(usernameCandidates({ email: 'Jean.Dupont@x.io', fullName: 'Jean Dupont' })).toEqual(['jean-dupont']);
  });

  it('drops a candidate made of punctuation only', () => {
    expect(usernameCandidates({ email: '!!!@x.io', fullName: 'Jean Dupont' })).toEqual(['jean-dupont']);
    expect(usernameCandidates({ email: '...@x.io', fullName: '---' })).toEqual([]);
    expect(deriveUsername({ fullName: '?!' })).toBeUndefined();
    expect(deriveUsername({})).toBeUndefined();
  });
});

describe('isValidUsername', () => {
  it.each([
    ['jean-dupont', true],
    ['a', true],
    ['0', true],
    ['1234', true],
    ['a'.repeat(63), true],
    ['a'.repeat(64), false],
    ['', false],
    ['-jean', false],
    ['jean-', false],
    ['Jean', false],
    ['jean_dupont', false],
    ['jean.dupont', false],
    ['jean dupont', false],
    ['émilie', false],
    ['jean\n', false],
  ])('%j → %s', (name, expected) => {
    expect(isValidUsername(name)).toBe(expected);
  });
});

describe('properties', () => {
  const text = fc.oneof(fc.string({ unit: 'grapheme', maxLength: 120 }), fc.string({ maxLength: 120 }), fc.emailAddress());

  it('every derived username is a valid DNS-1123 label or absent', () => {
    fc.assert(
      fc.property(fc.option(text, { nil: undefined }), fc.option(text, { nil: undefined }), (email, fullName) => {
        const candidates = usernameCandidates({ email, fullName });
        expect(candidates.length).toBeLessThanOrEqual(2);
        expect(new Set(candidates).size).toBe(candidates.length);
        for (const name of candidates) expect(isValidUsername(name), JSON.stringify(name)).toBe(true);
        expect(deriveUsername({ email, fullName })).toBe(candidates[0]);
      }),
      { numRuns: 500 },
    );
  });

  it('a valid username is its own username (derivation is stable on its output)', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/), (name) => {
        const collapsed = name.replace(/-+/g, '-');
        expect(usernameFromEmail(`${name}@x.io`)).toBe(collapsed);
        expect(usernameFromFullName(name)).toBe(collapsed);
      }),
    );
  });
});
