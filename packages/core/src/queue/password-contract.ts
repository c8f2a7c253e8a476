import { z } from 'zod';
import { JOBS } from './contract.js';

/**
 * `reset-password` (provisioning queue, under the trainee's lock): a trainee's lost password
 * replaced by a new one in Keycloak and on their Grafana account. The new password is never
 * in the data or the result: it is sealed under the job's key, as a create's, and
 * `GET /jobs/:id` opens it until PASSWORD_TTL_SECONDS.
 */

const username = z.string().regex(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/, 'not a DNS-1123 label');

export const resetPasswordJobData = z.object({ username });
export type ResetPasswordJobData = z.infer<typeof resetPasswordJobData>;

export const resetPasswordJobResult = z.object({
  username,
  /** Where the new password was set. */
  reset: z.object({
    keycloak: z.boolean(),
    /** False when the trainee has no Grafana account the provisioner can prove is theirs (`grafanaSkipped` says why). */
    grafana: z.boolean(),
  }),
  grafanaSkipped: z.string().optional(),
  /** The new password can be read (decrypted) through `GET /jobs/:id` until its TTL. */
  passwordIssued: z.boolean(),
});
export type ResetPasswordJobResult = z.infer<typeof resetPasswordJobResult>;

export function resetPasswordJobId(name: string): string {
  return `${JOBS.resetPassword}-${name}`;
}
