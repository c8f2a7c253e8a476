import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';

/** A playground's ResourceQuota values. */
export interface QuotaValues {
  pods: number;
  requestsCpu: string;
  requestsMemory: string;
  limitsCpu: string;
  limitsMemory: string;
  servicesLoadBalancers: number;
  servicesNodePorts: number;
  persistentVolumeClaims: number;
  requestsStorage: string;
  /** Node disk: container layers, logs and emptyDir volumes of all pods together. */
  requestsEphemeralStorage: string;
  limitsEphemeralStorage: string;
}

/** A playground's LimitRange values (what a container without resources gets). */
export interface LimitValues {
  defaultRequestCpu: string;
  defaultRequestMemory: string;
  defaultCpu: string;
  defaultMemory: string;
  defaultRequestEphemeralStorage: string;
  defaultEphemeralStorage: string;
}

/** A named quota profile: the ResourceQuota and the LimitRange of a playground. */
export interface QuotaProfile {
  quota: QuotaValues;
  limits: LimitValues;
}

/** What a profile changes from the base (the QUOTA_* and LIMIT_* settings): any field may be left out. */
export interface ProfileOverride {
  quota?: Partial<QuotaValues>;
  limits?: Partial<LimitValues>;
}

/** The names of the shipped profiles. */
export const BUILT_IN_PROFILE_NAMES: readonly string[] = ['large', 'medium', 'small'];

/** A profile name is written as a namespace label value, so it is a DNS-1123 label. */
export const PROFILE_NAME = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

/**
 * The shipped profiles. `medium` is the base itself, so a deployment that names no profile
 * keeps the quota it had (QUOTA_* and LIMIT_*, whose defaults are medium's).
 */
export const BUILT_IN_PROFILES: Readonly<Record<string, ProfileOverride>> = {
  small: {
    quota: {
      pods: 10, requestsCpu: '50m', requestsMemory: '1Gi', limitsCpu: '250m', limitsMemory: '2Gi', persistentVolumeClaims: 2, requestsStorage: '5Gi',
      requestsEphemeralStorage: '1Gi', limitsEphemeralStorage: '3Gi',
    },
  },
  medium: {},
  large: {
    quota: {
      pods: 40, requestsCpu: '200m', requestsMemory: '4Gi', limitsCpu: '1', limitsMemory: '8Gi', persistentVolumeClaims: 10, requestsStorage: '20Gi',
      requestsEphemeralStorage: '4Gi', limitsEphemeralStorage: '10Gi',
    },
  },
};

const quantity = z
  .union([z.string(), z.number().nonnegative()])
  .transform(String)
  .pipe(z.string().regex(/^[0-9]+(\.[0-9]+)?(m|Ki|Mi|Gi|Ti|k|M|G|T)?$/, 'not a Kubernetes quantity'));
const count = z.number().int().min(0);

const profileOverride = z.strictObject({
  quota: z
    .strictObject({
      pods: count,
      requestsCpu: quantity,
      requestsMemory: quantity,
      limitsCpu: quantity,
      limitsMemory: quantity,
      servicesLoadBalancers: count,
      servicesNodePorts: count,
      persistentVolumeClaims: count,
      requestsStorage: quantity,
      requestsEphemeralStorage: quantity,
      limitsEphemeralStorage: quantity,
    })
    .partial()
    .optional(),
  limits: z
    .strictObject({
      defaultRequestCpu: quantity,
      defaultRequestMemory: quantity,
      defaultCpu: quantity,
      defaultMemory: quantity,
      defaultRequestEphemeralStorage: quantity,
      defaultEphemeralStorage: quantity,
    })
    .partial()
    .optional(),
});

/** The QUOTA_PROFILES_FILE format: `profiles: {<name>: {quota: {...}, limits: {...}}}` (YAML or JSON). */
export const profilesFile = z.strictObject({
  profiles: z.record(z.string(), profileOverride).superRefine((profiles, ctx) => {
    for (const name of Object.keys(profiles)) {
      if (!PROFILE_NAME.test(name)) ctx.addIssue({ code: 'custom', path: [name], message: 'a profile name must be a DNS-1123 label (a-z, 0-9, -)' });
    }
  }),
});

/** The file's profiles, or the reasons it cannot be used (each `path: reason`, never its values). */
export function readProfilesFile(path: string): { profiles: Record<string, ProfileOverride> } | { issues: string[] } {
  let raw: unknown;
  try {
    raw = parseYaml(readFileSync(path, 'utf8'));
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? (error instanceof Error ? error.message.split('\n')[0] : String(error));
    return { issues: [`${path}: cannot be read as YAML or JSON (${reason})`] };
  }
  const parsed = profilesFile.safeParse(raw);
  if (!parsed.success) return { issues: parsed.error.issues.map((issue) => `${path}: ${issue.path.join('.') || '(file)'}: ${issue.message}`) };
  return { profiles: parsed.data.profiles as Record<string, ProfileOverride> };
}

/** Built-in profiles and the operator's (which replace a built-in of the same name). */
export function profileOverrides(fromFile: Readonly<Record<string, ProfileOverride>> | undefined): Record<string, ProfileOverride> {
  return { ...BUILT_IN_PROFILES, ...fromFile };
}

/** Every profile, complete: each override laid over the base. */
export function resolveProfiles(base: QuotaProfile, overrides: Readonly<Record<string, ProfileOverride>>): Record<string, QuotaProfile> {
  return Object.fromEntries(
    Object.entries(overrides).map(([name, override]) => [
      name,
      { quota: { ...base.quota, ...override.quota }, limits: { ...base.limits, ...override.limits } },
    ]),
  );
}

/** `unknown profile "x": one of small, medium, large`, for a 400 or a failed job. */
export function unknownProfileMessage(name: string, known: readonly string[]): string {
  return `unknown profile "${name}": one of ${[...known].sort().join(', ')}`;
}
