// Issue 14, a true drop-in: the old service's callers, trainees and deployment keep working.
// The whole service (API over HTTP + worker) against the stack's real servers.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomSuffix } from '../helpers/names.js';
import { findGrafanaUser, findKeycloakUser, getNamespace } from '../helpers/stack.js';
import { startService, type Service } from './service-harness.js';

describe('drop-in for the old service', () => {
  let s: Service;
  const call = (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) =>
    fetch(`${s.url}${path}`, {
      method,
      headers: { authorization: s.token, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });

  beforeAll(async () => {
    s = await startService();
  });
  afterAll(async () => {
    await s?.close();
  });

  it('creates and deletes a trainee with an internationalized address (UTF-8 local part, IDN domain)', async () => {
    const suffix = randomSuffix(3);
    const email = `Émilie.Durand.${suffix}@exämple.fr`;
    const username = `emilie-durand-${suffix}`;
    const created = await call('POST', '/provisioner', { email, full_name: 'Émilie Durand' }, { prefer: 'wait=60' });
    expect(created.status, await created.clone().text()).toBe(200);
    expect(await created.json()).toMatchObject({ message: 'User has been successfully created', username, password: expect.any(String) });

    const user = await findKeycloakUser(username);
    expect(user?.email?.normalize('NFC')).toBe(email.toLowerCase());
    expect((await findGrafanaUser(username))?.login).toBe(username);
    expect(await getNamespace(username)).toBeDefined();

    const deleted = await call('DELETE', '/provisioner', { email }, { prefer: 'wait=60' });
    expect(deleted.status, await deleted.clone().text()).toBe(200);
    expect(await deleted.json()).toMatchObject({ message: 'User has been deleted successfully', username, user_id: user?.id });
    expect(await findKeycloakUser(username)).toBeUndefined();

    // Deleting them again: they do not exist, which is an error, not a 200 "nothing to delete".
    const again = await call('DELETE', '/provisioner', { email }, { prefer: 'wait=60' });
    expect(again.status).toBe(404);
    expect(await again.json()).toMatchObject({ message: `No provisioned user found with username: ${username}`, username });
  }, 120_000);
});
