import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { pythonSlugify } from './python-slugify.js';

/**
 * Cases produced by running python-slugify 8.0.1 with text-unidecode 1.3 (the old service's
 * pinned versions; generator beside the fixture): scripts across the whole BMP, the code
 * points where npm `unidecode`'s table differs from text-unidecode's, quotes, HTML references.
 */
const fixture = JSON.parse(
  readFileSync(new URL('../../../test/fixtures/python-slugify-8.0.1.json', import.meta.url), 'utf8'),
) as { cases: [string, string][] };

describe('pythonSlugify agrees with python-slugify 8.0.1 + text-unidecode 1.3', () => {
  it('has the generated cases', () => {
    expect(fixture.cases.length).toBeGreaterThan(2000);
  });

  it('on every generated case', () => {
    const wrong = fixture.cases
      .map(([input, expected]) => ({ input, expected, got: pythonSlugify(input) }))
      .filter(({ expected, got }) => expected !== got);
    expect(wrong).toEqual([]);
  });

  it.each([
    ["Seán O'Brien", 'sean-o-brien'], // a typed quote is a separator…
    ['Игорь', 'igor'], // …a transliterated one (ь → ') is dropped
    ['a&amp;b', 'a-b'], // HTML references are decoded after transliteration
    ['caf&eacute;', 'cafe'],
    ['&#233;t&#xe9;', 'e-te'], // the decoded é is decomposed: its accent becomes a separator
    ['&#99999999;x', '99999999-x'], // python's chr() raises: the reference stays as text
    ['1,000 & 2', '1000-2'], // commas between digits go
    ['日本', 'ri-ben'],
    ['😀', ''],
  ])('%j → %j', (input, expected) => {
    expect(pythonSlugify(input)).toBe(expected);
  });

  // Plain texts (letters, digits, `_`, `.`, `-`) take a short path; a `!` added at the end
  // sends the same text down every step, and only adds a trailing separator, which goes.
  it('gives plain texts what every step would give them', () => {
    const alphabet = 'aZ09_.-xQ';
    let seed = 7;
    const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31);
    for (let n = 0; n < 2000; n += 1) {
      const text = Array.from({ length: next() % 12 }, () => alphabet[next() % alphabet.length]).join('');
      expect(pythonSlugify(text), text).toBe(pythonSlugify(`${text}!`));
    }
  });
});
