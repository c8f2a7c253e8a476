import { describe, expect, it } from 'vitest';
import { hashPassword, hashPasswordSync, verifyPassword } from './passwords.js';

describe('passwords', () => {
  it('stores salted PBKDF2-SHA256 as Grafana does and verifies only the right password', async () => {
    const stored = await hashPassword('right-pw');
    expect(stored).toMatch(/^pbkdf2-sha256\$[0-9a-f]{20}\$[0-9a-f]{100}$/);
    expect(stored).not.toBe(await hashPassword('right-pw'));
    expect(await verifyPassword('right-pw', stored)).toBe(true);
    expect(await verifyPassword('right-pw', stored)).toBe(true); // the remembered path
    expect(await verifyPassword('wrong-pw', stored)).toBe(false);
    expect(await verifyPassword('right-pw', hashPasswordSync('right-pw'))).toBe(true);
  });

  it('never accepts a hash in any other scheme', async () => {
    const [, salt, hash] = (await hashPassword('pw-1234')).split('$');
    expect(await verifyPassword('pw-1234', `scrypt$${salt}$${hash}`)).toBe(false);
    expect(await verifyPassword('pw-1234', 'pw-1234')).toBe(false);
  });
});
