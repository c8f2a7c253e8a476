import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { emailAddress, emailAddressToFind, emailAddressProblem } from './email.js';

describe('emailAddress (create: RFC 6531, as Keycloak 26 takes it)', () => {
  it.each([
    'Émilie.Durand@example.fr', // the README's own example
    'jean.dupont@example.com',
    'josé.núñez@example.es',
    '山田.太郎@example.jp',
    'александр@пример.рф', // IDN domain
    'x@exämple.de',
    'a+tag@example.com',
    "john.o'neil-smith@example.com",
    'hash#tag@example.com',
    'UPPER.CASE@EXAMPLE.COM',
    'user@localhost',
    `${'a'.repeat(64)}@example.com`,
  ])('accepts %s', (value) => {
    expect(emailAddressProblem(value, true)).toBeUndefined();
    expect(emailAddress.safeParse(value).success).toBe(true);
  });

  it.each([
    ['no-at-sign', /no @/],
    ['@example.com', /nothing before/],
    ['a@', /domain/],
    ['a@b@example.com', /more than one @/],
    ['jean dupont@example.com', /space/],
    ['jean@example.com ', /space/],
    ['jean\u00a0dupont@example.com', /space/], // no-break space
    ['jean\u3000@example.com', /space/], // ideographic space
    ['jean\n@example.com', /control/],
    ['jean\u0000@example.com', /control/],
    ['jean\u0085@example.com', /control|space/], // C1 control
    ['jean\ud800@example.com', /control/], // a lone surrogate is not UTF-8
    [`${'é'.repeat(60)}@${'d'.repeat(63)}.${'d'.repeat(63)}.${'d'.repeat(6)}`, /254 bytes/], // 255 bytes, 194 characters
    [`${'a'.repeat(65)}@example.com`, /over 64/],
    ['first..last@example.com', /dot-atom/],
    ['.leading@example.com', /dot-atom/],
    ['trailing.@example.com', /dot-atom/],
    ['semi;colon@example.com', /dot-atom/],
    ['a@exa_mple.com', /domain/],
    ['a@-example.com', /domain/],
    ['a@example..com', /domain/],
  ])('refuses %j (%s)', (value, reason) => {
    expect(emailAddressProblem(value, true)).toMatch(reason);
    const parsed = emailAddress.safeParse(value);
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues[0]?.message).toMatch(/^not a valid email address: it /);
  });

  it('counts the 254 limit in UTF-8 bytes, not characters', () => {
    const local = 'é'.repeat(60); // 120 bytes, 60 characters
    const domain = (last: number) => `${'d'.repeat(63)}.${'d'.repeat(63)}.${'d'.repeat(last)}`;
    expect(Buffer.byteLength(`${local}@${domain(5)}`)).toBe(254);
    expect(emailAddressProblem(`${local}@${domain(5)}`, true)).toBeUndefined();
    expect(emailAddressProblem(`${local}@${domain(6)}`, true)).toMatch(/254 bytes/);
  });

  it('accepts every address fast-check generates (RFC 5322 dot-atoms)', () => {
    fc.assert(fc.property(fc.emailAddress(), (value) => {
      if (value.slice(0, value.lastIndexOf('@')).length <= 64) expect(emailAddressProblem(value, true)).toBeUndefined();
    }));
  });
});

describe('emailAddressToFind (delete: finds trainees the old service made)', () => {
  it.each(['first..last@example.com', '.leading.dot@example.com', 'trailing.dot.@example.com', 'semi;colon@example.com'])(
    'accepts %s, which only the create refuses',
    (value) => {
      expect(emailAddressToFind.safeParse(value).success).toBe(true);
      expect(emailAddress.safeParse(value).success).toBe(false);
    },
  );

  it.each(['no-at-sign', 'a b@example.com', 'a\t@example.com', 'a@', `${'a'.repeat(250)}@example.com`])('still refuses %j', (value) => {
    expect(emailAddressToFind.safeParse(value).success).toBe(false);
  });
});

describe('emailAddressProblem: domain verdicts are remembered, never mixed up', () => {
  it('gives each domain its own verdict however often and in whatever order it is asked', () => {
    const asked = ['a@example.com', 'b@exa_mple.com', 'c@example.com', 'd@exa_mple.com', 'e@xn--.com', 'f@exämple.de'];
    const first = asked.map((value) => emailAddressProblem(value, true));
    expect(first).toEqual([undefined, 'has no valid domain after the @', undefined, 'has no valid domain after the @', 'has no valid domain after the @', undefined]);
    for (let round = 0; round < 3; round++) expect([...asked].reverse().map((value) => emailAddressProblem(value, true))).toEqual([...first].reverse());
  });

  it('still judges every domain once more than a thousand different ones were seen', () => {
    for (let i = 0; i < 1_100; i++) expect(emailAddressProblem(`u@host-${i}.example`, true)).toBeUndefined();
    expect(emailAddressProblem('u@bad_host.example', true)).toBe('has no valid domain after the @');
  });
});
