// POST /cohorts checks the quota profile as POST /provisioner does: an unknown name (JSON
// body or a CSV's ?profile=) is a 400 UNKNOWN_PROFILE naming the valid ones, before anything
// is enqueued, instead of a flow whose every member fails; QUOTA_PROFILES_FILE's names count.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, hex, redisReady, type TestApp } from '../helpers/api-app.js';

describe('API: a cohort\'s quota profile', () => {
  const profilesFile = join(mkdtempSync(join(tmpdir(), 'kup-profiles-')), 'profiles.yaml');
  writeFileSync(profilesFile, 'profiles:\n  gpu-lab:\n    quota: {pods: 2}\n');
  let t: TestApp;

  beforeAll(async () => {
    t = await buildTestApp({ QUOTA_PROFILES_FILE: profilesFile });
    await redisReady(t);
  });
  afterAll(async () => {
    await t?.close();
  });

  it('refuses an unknown profile, JSON or CSV, with the valid names, and enqueues nothing', async () => {
    const expected = { code: 'UNKNOWN_PROFILE', message: 'unknown profile "huge": one of gpu-lab, large, medium, small' };
    const json = await t.inject({ method: 'POST', url: '/cohorts', headers: t.auth, payload: { name: `c-${hex(8)}`, profile: 'huge', trainees: [{ email: 'ana.silva@school.io' }] } });
    expect(json.statusCode, json.body).toBe(400);
    expect(json.json()).toMatchObject(expected);
    const csv = await t.inject({
      method: 'POST',
      url: `/cohorts?name=c-${hex(8)}&profile=huge`,
      headers: { ...t.auth, 'content-type': 'text/csv' },
      payload: 'email,full_name\nana.silva@school.io,Ana Silva\n',
    });
    expect(csv.statusCode, csv.body).toBe(400);
    expect(csv.json()).toMatchObject(expected);
    expect(await t.jobCount()).toBe(0);
  });

  it('takes a profile of QUOTA_PROFILES_FILE', async () => {
    const name = `c-${hex(8)}`;
    const res = await t.inject({ method: 'POST', url: '/cohorts', headers: t.auth, payload: { name, profile: 'gpu-lab', trainees: [{ email: 'ana.silva@school.io' }] } });
    expect(res.statusCode, res.body).toBe(202);
    expect((await t.deps.queues.fleet.getJob(res.json().jobId))?.data).toMatchObject({ cohort: name, profile: 'gpu-lab' });
  });
});
