import { z } from 'zod';
import { PROFILE_NAME, profileOverrides, readProfilesFile, unknownProfileMessage } from '../domain/quota-profiles.js';
import { loadTemplates } from '../domain/templates/template-files.js';

/**
 * Quota profiles and namespace templates (docs/playground-templates.md). Both name files
 * (mountable from a ConfigMap) that are read and checked when the configuration is loaded,
 * so a bad file stops the boot with its path (and, for templates, its line).
 */

/** Read by the API too: it refuses an unknown `profile` before enqueueing. */
export const quotaProfileEnv = {
  /** YAML or JSON: `profiles: {<name>: {quota: {...}, limits: {...}}}`; adds to (or replaces) small, medium and large. */
  QUOTA_PROFILES_FILE: z
    .string()
    .min(1)
    .optional()
    .transform((path, ctx) => {
      if (path === undefined) return undefined;
      const read = readProfilesFile(path);
      if ('issues' in read) {
        for (const message of read.issues) ctx.addIssue({ code: 'custom', message });
        return z.NEVER;
      }
      return { path, profiles: read.profiles };
    }),
  /** The profile of a trainee created without one (and of trainees whose profile is gone). */
  DEFAULT_QUOTA_PROFILE: z.string().regex(PROFILE_NAME, 'a profile name must be a DNS-1123 label').default('medium'),
};

export const playgroundTemplateEnv = {
  /** A directory of YAML manifests (or one file) rendered into every playground. */
  PLAYGROUND_TEMPLATES: z
    .string()
    .min(1)
    .optional()
    .transform((path, ctx) => {
      if (path === undefined) return undefined;
      const loaded = loadTemplates(path);
      if ('issues' in loaded) {
        for (const message of loaded.issues) ctx.addIssue({ code: 'custom', message });
        return z.NEVER;
      }
      return { path, templates: loaded.templates };
    }),
};

type ProfileConfig = { QUOTA_PROFILES_FILE?: { profiles: Record<string, unknown> } | undefined; DEFAULT_QUOTA_PROFILE: string };

/** Every profile name the configuration gives (built-in and the file's), sorted. */
export function quotaProfileNames(config: Pick<ProfileConfig, 'QUOTA_PROFILES_FILE'>): string[] {
  return Object.keys(profileOverrides(config.QUOTA_PROFILES_FILE?.profiles as never)).sort();
}

/** DEFAULT_QUOTA_PROFILE must be one of the profiles. */
export function quotaProfileIssues(config: ProfileConfig): string[] {
  const names = quotaProfileNames(config);
  return names.includes(config.DEFAULT_QUOTA_PROFILE) ? [] : [`DEFAULT_QUOTA_PROFILE: ${unknownProfileMessage(config.DEFAULT_QUOTA_PROFILE, names)}`];
}
