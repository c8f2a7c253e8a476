import { describe, expect, it } from 'vitest';
import { ensureUserProfile, userProfile, userProfileDrift } from './keycloak-realm.js';

/** The stack's profile with `edit` of the named attributes given to users too: a realm imported before they were admin-only. */
const userEditable = (...names: string[]) => ({
  ...userProfile,
  attributes: userProfile.attributes.map((a) => (names.includes(a.name) ? { ...a, permissions: { ...a.permissions, edit: ['admin', 'user'] } } : a)),
});

describe('userProfileDrift', () => {
  it('none for the stack\'s own profile, whatever order Keycloak lists the rights in', () => {
    expect(userProfileDrift(userProfile)).toEqual([]);
    const reordered = { attributes: userProfile.attributes.map((a) => ({ ...a, permissions: { view: [...a.permissions.view].reverse(), edit: [...a.permissions.edit].reverse() } })) };
    expect(userProfileDrift(reordered)).toEqual([]);
  });

  it('trainees may change only what the provisioner does not rely on: email and names are admin-only', () => {
    const editable = userProfile.attributes.filter((a) => a.permissions.edit.includes('user')).map((a) => a.name);
    // username stays read-only through the realm's editUsernameAllowed: false.
    expect(editable).toEqual(['username']);
  });

  it('names an email (or name) users may edit, and an attribute of ours the realm lacks', () => {
    expect(userProfileDrift(userEditable('email', 'lastName'))).toEqual(['email', 'lastName']);
    expect(userProfileDrift({ attributes: userProfile.attributes.filter((a) => a.name !== 'grafana-user-id') })).toEqual(['grafana-user-id']);
    expect(userProfileDrift({})).toEqual(userProfile.attributes.map((a) => a.name));
  });
});

describe('ensureUserProfile', () => {
  const fakeAdmin = (current: unknown) => {
    const calls: { method: string; path: string; body?: unknown }[] = [];
    const admin = async (method: string, path: string, body?: unknown) => {
      calls.push({ method, path, body });
      return method === 'GET' ? { status: 200, body: JSON.stringify(current) } : { status: 200, body: '' };
    };
    return { admin, calls };
  };

  it('writes the stack\'s profile over an old one where trainees could edit their email', async () => {
    const { admin, calls } = fakeAdmin(userEditable('email', 'firstName', 'lastName'));
    const lines: string[] = [];
    await ensureUserProfile(admin, (line) => lines.push(line));
    expect(calls.map((c) => c.method)).toEqual(['GET', 'PUT']);
    expect(calls[1]).toEqual({ method: 'PUT', path: '/playground/users/profile', body: userProfile });
    expect(lines).toEqual(['keycloak: updating the user profile (email, firstName, lastName)']);
  });

  it('writes nothing when the realm is up to date', async () => {
    const { admin, calls } = fakeAdmin(userProfile);
    await ensureUserProfile(admin, () => undefined);
    expect(calls.map((c) => c.method)).toEqual(['GET']);
  });
});
