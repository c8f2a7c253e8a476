import { describe, expect, it } from 'vitest';
import { CursorCodec } from './cursor.js';

describe('CursorCodec', () => {
  const codec = new CursorCodec('a'.repeat(44));
  const filters = { prefix: 'ab', state: 'provisioned' };

  it('gives back the offset for the same filters, whatever their order', () => {
    const cursor = codec.encode(120, filters);
    expect(codec.decode(cursor, { state: 'provisioned', prefix: 'ab', expiresBefore: undefined })).toBe(120);
  });

  it('refuses a cursor altered, forged with another key, truncated, or given for other filters', () => {
    const cursor = codec.encode(120, filters);
    const [body, signature] = cursor.split('.') as [string, string];
    const forgedBody = Buffer.from(JSON.stringify({ o: 0, f: JSON.parse(Buffer.from(body, 'base64url').toString()).f })).toString('base64url');
    for (const bad of [`${forgedBody}.${signature}`, new CursorCodec('b'.repeat(44)).encode(120, filters), cursor.slice(0, -3), body, `${cursor}.x`, '']) {
      expect(() => codec.decode(bad, filters), bad).toThrow(expect.objectContaining({ statusCode: 400, code: 'INVALID_CURSOR' }));
    }
    expect(() => codec.decode(cursor, { prefix: 'ab' })).toThrow(/other filters/);
  });

  it('holds no filter value in clear', () => {
    const cursor = codec.encode(3, { prefix: 'secret-course' });
    expect(Buffer.from(cursor.split('.')[0] as string, 'base64url').toString()).not.toContain('secret-course');
  });
});
