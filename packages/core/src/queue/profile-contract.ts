import { z } from 'zod';
import { PROFILE_NAME } from '../domain/quota-profiles.js';
import { JOBS } from './contract.js';

/** `set-profile` (provisioning queue, under the trainee's lock): a trainee's quota profile changed. */

const username = z.string().regex(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/, 'not a DNS-1123 label');

export const setProfileJobData = z.object({ username, profile: z.string().regex(PROFILE_NAME, 'a profile name is a DNS-1123 label') });
export type SetProfileJobData = z.infer<typeof setProfileJobData>;

export const setProfileJobResult = z.object({
  username: z.string(),
  profile: z.string(),
  /** The profile the namespace recorded before; null when it recorded none. */
  previous: z.string().nullable(),
});
export type SetProfileJobResult = z.infer<typeof setProfileJobResult>;

export function setProfileJobId(name: string): string {
  return `${JOBS.setProfile}-${name}`;
}
