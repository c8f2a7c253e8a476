// `provisioner adopt` against the stack's Keycloak (directly, with the worker's env): a
// dry run lists and changes nothing; --yes adds managed-by and provisioned; filters hold.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run, type CliIo } from '@kup/cli';
import { uniqueUsername } from '../helpers/names.js';
import { createKeycloakUser, deleteKeycloakUser, findKeycloakUser } from '../helpers/stack.js';

function capture(): CliIo & { stdout: string[]; stderr: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return { stdout, stderr, out: (t) => void stdout.push(t), err: (t) => void stderr.push(t), env: process.env, interactive: false, confirm: async () => false };
}

describe('CLI: adopt', () => {
  const prefix = uniqueUsername('t-adopt');
  const school = `${prefix}-school`;
  const other = `${prefix}-other`;
  const ids: string[] = [];

  beforeAll(async () => {
    ids.push(await createKeycloakUser({ username: school, email: `${school}@school.example` }));
    ids.push(await createKeycloakUser({ username: other, email: `${other}@elsewhere.example` }));
  });
  afterAll(async () => {
    for (const id of ids) await deleteKeycloakUser(id);
  });

  it('dry run lists the matching users and changes nothing', async () => {
    const io = capture();
    expect(await run(['adopt', '--username-prefix', prefix, '--dry-run', '--json'], io)).toBe(0);
    expect(JSON.parse(io.stdout.join('\n')).candidates.sort()).toEqual([other, school].sort());
    expect((await findKeycloakUser(school))?.attributes?.['managed-by']).toBeUndefined();
  }, 60_000);

  it('--yes adopts only the users the filters select', async () => {
    const io = capture();
    expect(await run(['adopt', '--username-prefix', prefix, '--email-domain', 'school.example', '--yes', '--json'], io)).toBe(0);
    expect(JSON.parse(io.stdout.join('\n')).adopted).toEqual([school]);
    expect((await findKeycloakUser(school))?.attributes).toMatchObject({ 'managed-by': ['k8s-provisioner'], provisioned: ['true'] });
    expect((await findKeycloakUser(other))?.attributes?.['managed-by']).toBeUndefined();
  }, 60_000);
});
