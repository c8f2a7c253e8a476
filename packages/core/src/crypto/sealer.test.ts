import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Sealer } from './sealer.js';

const key = randomBytes(32);
const sealer = new Sealer(key);

describe('Sealer', () => {
  it('opens what it sealed, Unicode and empty strings included', () => {
    for (const text of ['S3cret-pass!word', '', 'pässwörd ✓ 日本']) {
      expect(sealer.open(sealer.seal(text, 'create-jean-1700000000000'), 'create-jean-1700000000000')).toBe(text);
    }
  });

  it('gives a different ciphertext each time and never holds the clear text', () => {
    const a = sealer.seal('S3cret-pass!word', 'ctx');
    const b = sealer.seal('S3cret-pass!word', 'ctx');
    expect(a).not.toBe(b);
    expect(a).toMatch(/^v1\.[\w-]+\.[\w-]+\.[\w-]+$/);
    expect(a).not.toContain('S3cret');
    expect(Buffer.from(a.split('.')[3] ?? '', 'base64url').toString('utf8')).not.toContain('S3cret');
  });

  it('refuses another context', () => {
    const sealed = sealer.seal('secret', 'create-jean-1');
    expect(() => sealer.open(sealed, 'create-jean-2')).toThrow();
  });

  it('refuses another key', () => {
    const sealed = sealer.seal('secret', 'ctx');
    expect(() => new Sealer(randomBytes(32)).open(sealed, 'ctx')).toThrow();
  });

  it('refuses a tampered value, whichever part is altered', () => {
    const sealed = sealer.seal('a secret long enough', 'ctx');
    const parts = sealed.split('.');
    for (const index of [1, 2, 3]) {
      const part = Buffer.from(parts[index] ?? '', 'base64url');
      part[0] = (part[0] ?? 0) ^ 0x01;
      const tampered = parts.map((p, i) => (i === index ? part.toString('base64url') : p)).join('.');
      expect(() => sealer.open(tampered, 'ctx'), `part ${index}`).toThrow();
    }
  });

  it.each(['', 'garbage', 'v2.a.b.c', 'v1.a.b', 'v1..'])('refuses a value that is not sealed: %j', (value) => {
    expect(() => sealer.open(value, 'ctx')).toThrow();
  });

  it('accepts the key as hex or base64, and both give the same key', () => {
    const fromHex = Sealer.fromEncodedKey(key.toString('hex'));
    const fromUpperHex = Sealer.fromEncodedKey(key.toString('hex').toUpperCase());
    const fromBase64 = Sealer.fromEncodedKey(key.toString('base64'));
    const sealed = fromHex.seal('secret', 'ctx');
    expect(fromBase64.open(sealed, 'ctx')).toBe('secret');
    expect(fromUpperHex.open(sealed, 'ctx')).toBe('secret');
    expect(sealer.open(sealed, 'ctx')).toBe('secret');
  });

  it.each([
    ['16 bytes', randomBytes(16)],
    ['31 bytes', randomBytes(31)],
    ['33 bytes', randomBytes(33)],
    ['empty', Buffer.alloc(0)],
  ])('refuses a key of %s', (_, bad) => {
    expect(() => new Sealer(bad)).toThrow(RangeError);
    expect(() => Sealer.fromEncodedKey(bad.toString('base64'))).toThrow(RangeError);
  });

  it('refuses a hex key of the wrong length', () => {
    expect(() => Sealer.fromEncodedKey(randomBytes(16).toString('hex'))).toThrow(RangeError);
  });
});
