// No trainee route leaks or touches a user the provisioner does not manage, against the
// stack: a Keycloak account made directly (someone else's), one marked as another tool's,
// and a name nobody has, all get the same 404 (state, kubeconfig, welcome, PATCH), and
// PATCH writes nothing on them. The list leaves them out whichever Keycloak list it walks.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emailOf, uniqueUsername } from '../helpers/names.js';
import { createKeycloakUser, deleteKeycloakUser, findKeycloakUser } from '../helpers/stack.js';
import { startService, type Service } from './service-harness.js';

describe('trainee routes never reach an unmanaged user', () => {
  let s: Service;
  const human = uniqueUsername('t-human');
  const foreign = uniqueUsername('t-foreign');
  const nobody = uniqueUsername('t-nobody');
  const ids: string[] = [];
  const call = (method: 'GET' | 'PATCH', url: string, payload?: object, headers: Record<string, string> = {}) =>
    s.api.inject({ method, url, headers: { authorization: s.token, ...headers }, ...(payload ? { payload } : {}) });
  /** A 404 body with the asked name replaced, to compare across users. */
  const shape = (body: string, username: string) => body.replaceAll(username, '<name>');

  beforeAll(async () => {
    s = await startService();
    ids.push(await createKeycloakUser({ username: human, email: emailOf(human), password: 'Sup3r-secret-pw' }));
    ids.push(await createKeycloakUser({ username: foreign, email: emailOf(foreign), attributes: { 'managed-by': ['another-tool'] } }));
  });

  afterAll(async () => {
    await Promise.all(ids.map((id) => deleteKeycloakUser(id)));
    await s?.close();
  });

  it.each(['', '/kubeconfig', '/welcome', '/welcome?format=text'])('GET /trainees/:username%s is the same 404 for an unmanaged user and for nobody', async (suffix) => {
    const answers = await Promise.all([human, foreign, nobody].map((name) => call('GET', `/trainees/${name}${suffix}`)));
    for (const answer of answers) expect(answer.statusCode, answer.body).toBe(404);
    const [a, b, c] = answers.map((answer, i) => shape(answer.body, [human, foreign, nobody][i] as string));
    expect(a).toBe(c);
    expect(b).toBe(c);
    expect(answers[0]?.json()).toEqual({ message: `No managed trainee named "${human}"`, code: 'TRAINEE_NOT_FOUND' });
  });

  it('GET /trainees does not list them', async () => {
    for (const name of [human, foreign]) {
      const page = await call('GET', `/trainees?prefix=${name}`);
      expect(page.statusCode).toBe(200);
      expect(page.json()).toEqual({ items: [], nextCursor: null });
    }
  });

  it('GET /trainees does not list them when it walks the realm\'s users either (trainees half of those under the prefix)', async () => {
    const course = uniqueUsername('t-walk');
    const [ours1, ours2, theirs1, theirs2] = ['a', 'b', 'c', 'd'].map((letter) => `${course}-${letter}`) as [string, string, string, string];
    for (const name of [ours1, ours2]) ids.push(await createKeycloakUser({ username: name, email: emailOf(name), attributes: { 'managed-by': ['k8s-provisioner'] } }));
    ids.push(await createKeycloakUser({ username: theirs1, email: emailOf(theirs1), password: 'Sup3r-secret-pw' }));
    ids.push(await createKeycloakUser({ username: theirs2, email: emailOf(theirs2), attributes: { 'managed-by': ['another-tool'] } }));
    const listed: string[] = [];
    const walks: unknown[] = [];
    let cursor: string | null = null;
    do {
      const page = await call('GET', `/trainees?prefix=${course}&limit=1${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      expect(page.statusCode, page.body).toBe(200);
      listed.push(...(page.json().items as { username: string }[]).map((item) => item.username));
      cursor = page.json().nextCursor as string | null;
      if (cursor) walks.push(JSON.parse(Buffer.from(cursor.split('.')[0] as string, 'base64url').toString()).w);
    } while (cursor);
    expect(listed).toEqual([ours1, ours2]);
    // The walk the worker chose was the realm's (its cursors say so), not the attribute search.
    expect(walks.length).toBeGreaterThan(0);
    expect(new Set(walks)).toEqual(new Set(['realm']));
  });

  it('PATCH /trainees/:username is the same 404 and writes nothing', async () => {
    const before = await findKeycloakUser(human);
    const answers = await Promise.all(
      [human, foreign, nobody].map((name) => call('PATCH', `/trainees/${name}`, { expiresAt: '2020-01-01T00:00:00Z' }, { prefer: 'wait=30' })),
    );
    for (const answer of answers) expect(answer.statusCode, answer.body).toBe(404);
    const bodies = answers.map((answer, i) => {
      const { jobId: _jobId, ...rest } = answer.json() as { jobId?: string };
      return shape(JSON.stringify(rest), [human, foreign, nobody][i] as string);
    });
    expect(new Set(bodies).size).toBe(1);
    // The accounts are untouched: no expiry written, still there, still not managed.
    const after = await findKeycloakUser(human);
    expect(after?.attributes?.['expires-at']).toBeUndefined();
    expect(after?.attributes).toEqual(before?.attributes);
    expect((await findKeycloakUser(foreign))?.attributes).toEqual({ 'managed-by': ['another-tool'] });
    // And no expire job was set for them.
    for (const name of [human, foreign, nobody]) expect(await s.apiDeps.queues.provisioning.getJob(`expire-${name}`)).toBeUndefined();
  });
});
