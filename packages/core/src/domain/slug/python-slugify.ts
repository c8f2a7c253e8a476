import unidecode from 'unidecode';
import { HTML4_ENTITIES } from './html4-entities.js';
import { TEXT_UNIDECODE_OVERLAY } from './text-unidecode-overlay.js';

/**
 * python-slugify 8.0.1's `slugify(text)` with its defaults, transliterating with
 * text-unidecode 1.3 (the versions the old service pinned). Usernames of existing trainees
 * were made by it: deriving the very same string is what lets delete, reset and sync find
 * them. Each step below is one line of python-slugify's, in the same order.
 */
export function pythonSlugify(input: string): string {
  // Letters, digits, `_`, `.` and `-` only (nearly every address and name): no step but the
  // lowercasing and the separators changes such a text, so those are all it takes.
  if (PLAIN.test(input)) return separated(input.toLowerCase());
  // Runs of apostrophes become a separator before transliterating (`O'Brien` → `O-Brien`).
  let text = input.replace(/'+/g, '-');
  text = textUnidecode(text);
  text = decodeEntities(text);
  text = text.normalize('NFKD').toLowerCase();
  // Apostrophes the transliteration produced (`ь` → `'`) are dropped, not separators.
  text = text.replace(/'+/g, '');
  // `1,000` → `1000` (python's `\d` is any decimal digit, hence \p{Nd}).
  text = text.replace(/(?<=\p{Nd}),(?=\p{Nd})/gu, '');
  return separated(text);
}

const PLAIN = /^[\w.-]*$/;

/** Every run of other characters becomes one `-`, none at either end. */
function separated(text: string): string {
  return text.replace(/[^-a-zA-Z0-9]+/g, '-').replace(/-{2,}/g, '-').replace(/^-+|-+$/g, '');
}

const overlay = new Map<number, string>();
for (const [first, last, value] of TEXT_UNIDECODE_OVERLAY) {
  for (let codePoint = first; codePoint <= last; codePoint += 1) overlay.set(codePoint, value);
}

/**
 * text-unidecode 1.3: each code point through the Text::Unidecode table; code points past
 * U+FFFF (emoji, rare ideographs) have no entry and vanish. The npm `unidecode` package holds
 * the same tables; the overlay restores the entries where its copy differs from 1.3's.
 * It is called one character at a time because its UTF-8 detection regex, applied to a whole
 * JavaScript string, can skip a Latin-1 character followed by one in U+0080..U+00BF.
 */
function textUnidecode(text: string): string {
  let out = '';
  for (const char of text) {
    const codePoint = char.codePointAt(0) ?? 0;
    if (codePoint < 0x80) out += char;
    else if (codePoint > 0xffff) continue;
    else out += overlay.get(codePoint) ?? unidecode(char);
  }
  return out;
}

/**
 * python-slugify then decodes HTML references: named (HTML 4 names), decimal and hexadecimal.
 * As in python, one out-of-range number (`chr()` raising) leaves every reference of its kind
 * undecoded, since the try wraps the whole substitution.
 */
function decodeEntities(text: string): string {
  let out = text.replace(/&([A-Za-z0-9]+);/g, (match, name: string) => {
    const codePoint = HTML4_ENTITIES.get(name);
    return codePoint === undefined ? match : String.fromCodePoint(codePoint);
  });
  out = replaceAllOrNone(out, /&#(\d+);/g, (digits) => BigInt(digits));
  out = replaceAllOrNone(out, /&#x([\da-fA-F]+);/g, (digits) => BigInt(`0x${digits}`));
  return out;
}

const MAX_CODE_POINT = 0x10ffffn;

function replaceAllOrNone(text: string, pattern: RegExp, parse: (digits: string) => bigint): string {
  let failed = false;
  const replaced = text.replace(pattern, (match, digits: string) => {
    const value = parse(digits);
    if (value > MAX_CODE_POINT) {
      failed = true;
      return match;
    }
    return String.fromCodePoint(Number(value));
  });
  return failed ? text : replaced;
}
