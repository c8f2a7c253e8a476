import { describe, expect, it } from 'vitest';
import { TokenVerifier, tokenFromAuthorization } from './token-verifier.js';

const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

describe('tokenFromAuthorization', () => {
  it.each([
    ['bare token (the old style)', 'abc123', 'abc123'],
    ['Bearer', 'Bearer abc123', 'abc123'],
    ['bearer, any case, extra spaces', '  bearer   abc123 ', 'abc123'],
    ['Basic: the password is the token', basic('anyone', 'abc123'), 'abc123'],
    ['Basic: a token holding a colon', basic('', 'a:b'), 'a:b'],
  ])('%s', (_case, header, token) => {
    expect(tokenFromAuthorization(header)).toBe(token);
  });

  it.each([undefined, '', '   ', 'Bearer', 'Bearer   ', basic('user', ''), 'Basic bm9jb2xvbg=='])('no token in %j', (header) => {
    expect(tokenFromAuthorization(header)).toBeUndefined();
  });
});

describe('TokenVerifier', () => {
  const verifier = new TokenVerifier(['first-token-0123456789', 'second-token-0123456789']);

  it('accepts every configured token (rotation)', () => {
    expect(verifier.verify('first-token-0123456789')).toBe(true);
    expect(verifier.verify('second-token-0123456789')).toBe(true);
  });

  it('refuses anything else, including prefixes and longer strings', () => {
    for (const candidate of [undefined, '', 'first-token', 'first-token-0123456789x', 'FIRST-TOKEN-0123456789']) {
      expect(verifier.verify(candidate)).toBe(false);
    }
  });

  it('needs at least one token', () => {
    expect(() => new TokenVerifier([])).toThrow(RangeError);
  });
});
