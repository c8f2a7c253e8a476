import { describe, expect, it } from 'vitest';
import { CursorCodec } from './cursor.js';

describe('CursorCodec', () => {
  const codec = new CursorCodec('a'.repeat(44));
  const filters = { prefix: 'ab', state: 'provisioned' };

  it('gives back the offset and walk for the same filters, whatever their order', () => {
    for (const walk of ['managed', 'realm'] as const) {
      const cursor = codec.encode({ offset: 120, walk }, filters);
      expect(codec.decode(cursor, { state: 'provisioned', prefix: 'ab', expiresBefore: undefined })).toEqual({ offset: 120, walk });
    }
  });

  it('writes a managed-list cursor as cursors were before walks ({o, f}), so theirs still read as managed', () => {
    const cursor = codec.encode({ offset: 40, walk: 'managed' }, filters);
    expect(Object.keys(JSON.parse(Buffer.from(cursor.split('.')[0] as string, 'base64url').toString()))).toEqual(['o', 'f']);
    expect(codec.decode(cursor, filters)).toEqual({ offset: 40, walk: 'managed' });
  });

  it('refuses a cursor altered, forged with another key, truncated, or given for other filters', () => {
    const cursor = codec.encode({ offset: 120, walk: 'realm' }, filters);
    const [body, signature] = cursor.split('.') as [string, string];
    const forgedBody = Buffer.from(JSON.stringify({ o: 0, f: JSON.parse(Buffer.from(body, 'base64url').toString()).f })).toString('base64url');
    for (const bad of [`${forgedBody}.${signature}`, new CursorCodec('b'.repeat(44)).encode({ offset: 120, walk: 'managed' }, filters), cursor.slice(0, -3), body, `${cursor}.x`, '']) {
      expect(() => codec.decode(bad, filters), bad).toThrow(expect.objectContaining({ statusCode: 400, code: 'INVALID_CURSOR' }));
    }
    expect(() => codec.decode(cursor, { prefix: 'ab' })).toThrow(/other filters/);
  });

  it('holds no filter value in clear', () => {
    const cursor = codec.encode({ offset: 3, walk: 'realm' }, { prefix: 'secret-course' });
    expect(Buffer.from(cursor.split('.')[0] as string, 'base64url').toString()).not.toContain('secret-course');
  });
});
