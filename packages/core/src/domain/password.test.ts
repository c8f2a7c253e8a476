import { describe, expect, it } from 'vitest';
import { generatePassword } from './password.js';

const LOOK_ALIKES = /[lIO01]/;

describe('generatePassword', () => {
  it('is 20 characters by default and honours the length asked for', () => {
    expect(generatePassword()).toHaveLength(20);
    for (const length of [12, 13, 32, 64]) expect(generatePassword(length)).toHaveLength(length);
  });

  it('refuses fewer than 12 characters', () => {
    for (const length of [0, 4, 11]) expect(() => generatePassword(length)).toThrow(RangeError);
  });

  it('always holds a lowercase letter, an uppercase letter, a digit and a symbol, and no look-alikes', () => {
    // The shortest length gives the class guarantee the least room: test it hardest.
    for (let i = 0; i < 2_000; i++) {
      const password = generatePassword(12);
      expect(password).toMatch(/[a-z]/);
      expect(password).toMatch(/[A-Z]/);
      expect(password).toMatch(/[0-9]/);
      expect(password).toMatch(/[^a-zA-Z0-9]/);
      expect(password).not.toMatch(LOOK_ALIKES);
      expect(password).toMatch(/^[a-zA-Z0-9\-_.!~*+=%]+$/);
    }
  });

  it('does not always put the guaranteed classes first', () => {
    const firsts = new Set(Array.from({ length: 500 }, () => generatePassword(12).charAt(0)));
    expect([...firsts].some((c) => /[A-Z]/.test(c))).toBe(true);
    expect([...firsts].some((c) => /[0-9]/.test(c))).toBe(true);
  });

  it('is distinct over many runs', () => {
    const passwords = new Set(Array.from({ length: 5_000 }, () => generatePassword()));
    expect(passwords.size).toBe(5_000);
  });
});

describe('generatePassword in a spreadsheet', () => {
  it('never starts with a character a spreadsheet reads as a formula', () => {
    for (let i = 0; i < 2_000; i++) expect(generatePassword()).not.toMatch(/^[=+-]/);
  });
});
