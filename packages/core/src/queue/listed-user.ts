import { z } from 'zod';

/**
 * The user as the run's listing saw them (purge runs): lets the child check the namespace's
 * fittings without asking Keycloak again. Never used to create anything: a child that has
 * to make or re-apply the namespace looks the user up first.
 */
export const listedUser = z.object({
  id: z.string(),
  email: z.string().optional(),
  /** None when Keycloak gives no creation time. */
  createdAt: z.number().int().optional(),
  expiresAt: z.string().optional(),
});
export type ListedUser = z.infer<typeof listedUser>;

/**
 * The whole user as the listing saw them (sync dry runs): a dry run reports on the realm as
 * its run listed it, so its children ask Keycloak nothing. A real sync looks the user up
 * under its lock, as it writes.
 */
export const listedIdentity = listedUser.extend({
  enabled: z.boolean(),
  managed: z.boolean(),
  provisioned: z.boolean(),
  fullName: z.string().optional(),
  grafanaUserId: z.number().int().nullable().optional(),
  profile: z.string().optional(),
});
export type ListedIdentity = z.infer<typeof listedIdentity>;
