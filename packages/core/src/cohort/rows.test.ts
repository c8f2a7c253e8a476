import { describe, expect, it } from 'vitest';
import { deriveUsername } from '../domain/username.js';
import { cohortMemberJobId, parseCohortChildId, cohortName, MAX_COHORT_NAME_LENGTH } from './contract.js';
import { planCohort } from './rows.js';

const reserved = ['kube-*', 'default'];

describe('planCohort', () => {
  it('derives each username exactly as a single create does', () => {
    const rows = [{ email: 'Jean.Dupont@school.io' }, { full_name: 'Émilie Durand' }, { email: 'ana@school.io', full_name: 'Ana Silva' }];
    const { members, problems } = planCohort(rows, { reserved });
    expect(problems).toEqual([]);
    expect(members.map((m) => m.username)).toEqual(rows.map((r) => deriveUsername({ email: r.email, fullName: r.full_name })));
    expect(members[2]).toEqual({ username: 'ana', email: 'ana@school.io', fullName: 'Ana Silva' });
  });

  it('reports every bad row with its number and reason, and returns no member then', () => {
    const { members, problems } = planCohort(
      [{ email: 'okay@school.io' }, { email: ' ', full_name: '' }, { email: 'not-an-email' }, { full_name: 'Okay' }, { full_name: 'Default' }, { full_name: '!!!' }],
      { reserved },
    );
    expect(members).toEqual([]);
    expect(problems.map((p) => p.row)).toEqual([2, 3, 4, 5, 6]);
    expect(problems[0]?.reason).toBe('Email address and full name are missing');
    expect(problems[2]?.reason).toBe('same username "okay" as row 1');
    expect(problems[3]?.reason).toMatch(/reserved/);
    expect(problems[4]?.reason).toMatch(/empty username/);
  });

  it('refuses an expiry a single create would refuse', () => {
    expect(planCohort([{ email: 'a1@school.io' }], { reserved, expiresAt: 'tomorrow' }).problems[0]?.reason).toMatch(/expiresAt/);
  });
});

describe('cohort names and ids', () => {
  it('keeps cohort-<name> a DNS-1123 label', () => {
    expect(cohortName.safeParse('a'.repeat(MAX_COHORT_NAME_LENGTH)).success).toBe(true);
    expect(cohortName.safeParse('a'.repeat(MAX_COHORT_NAME_LENGTH + 1)).success).toBe(false);
    expect(cohortName.safeParse('Class_1').success).toBe(false);
    expect(`cohort-${'a'.repeat(MAX_COHORT_NAME_LENGTH)}`).toHaveLength(63);
  });

  it('reads the username back from a child id or key', () => {
    const id = cohortMemberJobId('memberCreate', 'abc123', 'jean-dupont');
    expect(parseCohortChildId(`kup:fleet-user:${id}`)).toEqual({ runId: 'abc123', username: 'jean-dupont' });
    expect(parseCohortChildId('reset-user-abc-jean')).toBeUndefined();
  });
});
