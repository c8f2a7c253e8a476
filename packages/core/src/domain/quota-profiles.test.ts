import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { commonEnv } from '../config/env.js';
import { quotaProfileIssues, quotaProfileNames } from '../config/profiles-templates-env.js';
import { InvalidInputError } from '../errors.js';
import { BUILT_IN_PROFILE_NAMES, BUILT_IN_PROFILES, readProfilesFile } from './quota-profiles.js';
import {
  LABELS,
  QUOTA_NAME,
  assertKnownProfile,
  defaultPlaygroundSettings,
  namespaceManifest,
  namespacedManifests,
  profileOf,
  type Trainee,
} from './trainee-plan.js';

const ISSUER = 'https://issuer.test/realms/p';
const trainee: Trainee = { username: 'ana', userId: 'u-1', email: 'ana@example.com', createdAt: '2026-01-01T00:00:00.000Z', expiresAt: '2027-01-01T00:00:00.000Z' };
const dir = mkdtempSync(join(tmpdir(), 'kup-profiles-'));
const file = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};
const hardOf = (settings: ReturnType<typeof defaultPlaygroundSettings>, who: Trainee) =>
  (namespacedManifests(settings, who).find((o) => o.kind === 'ResourceQuota') as unknown as { spec: { hard: Record<string, string> } }).spec.hard;
const limitOf = (settings: ReturnType<typeof defaultPlaygroundSettings>, who: Trainee) =>
  (namespacedManifests(settings, who).find((o) => o.kind === 'LimitRange') as unknown as { spec: { limits: { default: Record<string, string> }[] } }).spec.limits[0]?.default;

describe('quota profiles', () => {
  it('keeps the quota every trainee had: the default profile is medium, which is the QUOTA_* settings', () => {
    const settings = defaultPlaygroundSettings(ISSUER);
    expect(settings.defaultProfile).toBe('medium');
    expect(Object.keys(settings.profiles).sort()).toEqual([...BUILT_IN_PROFILE_NAMES]);
    expect(settings.profiles.medium).toEqual({ quota: settings.quota, limits: settings.limits });
    expect(hardOf(settings, trainee)).toMatchObject({ pods: '20', 'requests.cpu': '100m', 'limits.memory': '4Gi', 'requests.storage': '10Gi' });
    expect(namespaceManifest(settings, trainee).metadata.labels?.[LABELS.profile]).toBe('medium');
  });

  it('gives a trainee their profile\'s quota and LimitRange, and records it on the namespace', () => {
    const settings = defaultPlaygroundSettings(ISSUER);
    const small = { ...trainee, profile: 'small' };
    expect(hardOf(settings, small)).toMatchObject({ pods: '10', 'requests.cpu': '50m', 'limits.cpu': '250m', persistentvolumeclaims: '2' });
    expect(hardOf(settings, { ...trainee, profile: 'large' })).toMatchObject({ pods: '40', 'limits.cpu': '1' });
    expect(namespaceManifest(settings, small).metadata.labels?.[LABELS.profile]).toBe('small');
    // Same object name whatever the profile: a change of profile replaces the quota in place.
    expect(namespacedManifests(settings, small).filter((o) => o.kind === 'ResourceQuota').map((o) => o.metadata.name)).toEqual([QUOTA_NAME]);
  });

  it('lays a profile over QUOTA_* (fields it leaves out keep the settings\' values)', () => {
    const settings = defaultPlaygroundSettings(ISSUER, { QUOTA_SERVICES_NODEPORTS: 3, LIMIT_DEFAULT_CPU: '150m' });
    expect(hardOf(settings, { ...trainee, profile: 'small' })['services.nodeports']).toBe('3');
    expect(limitOf(settings, { ...trainee, profile: 'small' })).toEqual({ cpu: '150m', memory: '256Mi', 'ephemeral-storage': '256Mi' });
    expect(BUILT_IN_PROFILES.small?.limits).toBeUndefined();
  });

  it('gives a trainee whose recorded profile no longer exists the default one', () => {
    const settings = defaultPlaygroundSettings(ISSUER);
    expect(profileOf(settings, { profile: 'gone' }).name).toBe('medium');
    expect(hardOf(settings, { ...trainee, profile: 'gone' })).toEqual(hardOf(settings, trainee));
  });

  it('refuses at create a profile the configuration lacks, naming the valid ones', () => {
    const settings = defaultPlaygroundSettings(ISSUER);
    expect(() => assertKnownProfile(settings, 'huge')).toThrow(InvalidInputError);
    expect(() => assertKnownProfile(settings, 'huge')).toThrow('unknown profile "huge": one of large, medium, small');
    expect(() => assertKnownProfile(settings, 'small')).not.toThrow();
    expect(() => assertKnownProfile(settings, undefined)).not.toThrow();
  });
});

describe('QUOTA_PROFILES_FILE', () => {
  const parseFile = (path: string) => commonEnv.shape.QUOTA_PROFILES_FILE.safeParse(path);

  it('reads YAML, adds its profiles and replaces a built-in of the same name', () => {
    const path = file('profiles.yaml', 'profiles:\n  gpu-lab:\n    quota: {pods: 3, limitsCpu: 4}\n  small:\n    limits: {defaultCpu: 50m}\n');
    const parsed = parseFile(path);
    expect(parsed.success).toBe(true);
    const config = { QUOTA_PROFILES_FILE: parsed.data, DEFAULT_QUOTA_PROFILE: 'gpu-lab' };
    expect(quotaProfileNames(config)).toEqual(['gpu-lab', 'large', 'medium', 'small']);
    expect(quotaProfileIssues(config)).toEqual([]);
    const settings = defaultPlaygroundSettings(ISSUER, config);
    expect(settings.quota.pods).toBe(3);
    expect(settings.quota.limitsCpu).toBe('4');
    // The file's `small` replaces the built-in one: only its LimitRange differs from the base.
    expect(settings.profiles.small?.quota.pods).toBe(20);
    expect(settings.profiles.small?.limits.defaultCpu).toBe('50m');
  });

  it('reads JSON too', () => {
    const parsed = parseFile(file('profiles.json', JSON.stringify({ profiles: { tiny: { quota: { pods: 1 } } } })));
    expect(parsed.success && parsed.data?.profiles.tiny).toEqual({ quota: { pods: 1 } });
  });

  it('stops the boot on a bad file, naming the file and the field', () => {
    const bad = file('bad.yaml', 'profiles:\n  Small:\n    quota: {pods: -1}\n  x:\n    quota: {requestsCpu: lots, gpus: 1}\n');
    const result = readProfilesFile(bad);
    expect('issues' in result && result.issues.join('\n')).toMatch(/bad\.yaml: profiles\.Small: a profile name must be a DNS-1123 label/);
    expect('issues' in result && result.issues.join('\n')).toMatch(/bad\.yaml: profiles\.x\.quota\.requestsCpu: not a Kubernetes quantity/);
    expect('issues' in result && result.issues.join('\n')).toMatch(/bad\.yaml: profiles\.x\.quota: Unrecognized key: "gpus"/);
    expect(parseFile(bad).success).toBe(false);
    expect(parseFile(join(dir, 'missing.yaml')).error?.issues[0]?.message).toMatch(/missing\.yaml: cannot be read as YAML or JSON \(ENOENT\)/);
    expect(parseFile(file('syntax.yaml', 'profiles: [\n')).success).toBe(false);
  });

  it('refuses a DEFAULT_QUOTA_PROFILE that is not a profile', () => {
    expect(quotaProfileIssues({ DEFAULT_QUOTA_PROFILE: 'huge' })).toEqual(['DEFAULT_QUOTA_PROFILE: unknown profile "huge": one of large, medium, small']);
  });
});
