import { describe, expect, it } from 'vitest';
import { cleanupReason, MANAGED_BY } from '@kup/core';
import { toIdentityUser } from './keycloak-users.js';

const DAY = 86_400_000;
const now = Date.parse('2026-06-01T00:00:00Z');

describe('toIdentityUser', () => {
  it('keeps Keycloak\'s creation time, and an unknown one unknown: never an old user to cleanup', () => {
    expect(toIdentityUser({ id: 'u-1', username: 'ana', createdTimestamp: now - 400 * DAY }).createdAt).toBe(now - 400 * DAY);
    const unknown = toIdentityUser({ id: 'u-2', username: 'bob', attributes: { 'managed-by': [MANAGED_BY] } });
    expect(unknown.createdAt).toBeUndefined();
    expect(cleanupReason(unknown, now, 365)).toBeUndefined();
    // Its own expiry still counts.
    expect(cleanupReason({ ...unknown, expiresAt: new Date(now - DAY).toISOString() }, now, 365)).toBe('expired');
  });
});
