/** Keycloak as the domain sees it. Implemented by `packages/adapters/src/keycloak.adapter.ts`. */

export const MANAGED_BY = 'k8s-provisioner';

export interface IdentityUser {
  id: string;
  username: string;
  email: string | undefined;
  enabled: boolean;
  /** `managed-by=k8s-provisioner`: the provisioner made (or adopted) this user. */
  managed: boolean;
  /** `provisioned=true`: every system was set up; written as the last step of a create. */
  provisioned: boolean;
  /** ISO date from the `expires-at` attribute, when set. */
  expiresAt: string | undefined;
  /**
   * Keycloak's `createdTimestamp`, ms since the epoch; undefined when Keycloak gives none
   * (an imported user): such a user is never taken for an old one.
   */
  createdAt: number | undefined;
  /** First and last name joined, when Keycloak has any. */
  fullName?: string | undefined;
  /**
   * The Grafana account the provisioner made for this user (`grafana-user-id`): a number
   * once recorded; null for a user made by a provisioner that records ids but has not made
   * (or not yet recorded) one; undefined (no attribute) for a user made before ids were
   * recorded. See provisioning/ownership.ts for what each means.
   */
  grafanaUserId?: number | null | undefined;
  /** The quota profile (`quota-profile`), kept so a namespace made again gets it back. */
  profile?: string | undefined;
}

/** A user as this attempt created it, its password left out: what `setCreatedProvisioned` writes back. */
export type CreatedIdentityUser = Omit<NewIdentityUser, 'password'>;

export interface NewIdentityUser {
  username: string;
  email: string | undefined;
  firstName: string | undefined;
  lastName: string | undefined;
  password: string;
  expiresAt: string | undefined;
  /** The quota profile asked for at create; none: the default. */
  profile?: string | undefined;
}

export interface IdentityPage {
  users: IdentityUser[];
  /** Pass back to get the next page; undefined on the last page. */
  next: number | undefined;
}

export interface UsernamePage {
  usernames: string[];
  /** Pass back to get the next page; undefined on the last page. */
  next: number | undefined;
}

export interface IdentityProvider {
  findUser(username: string, signal?: AbortSignal): Promise<IdentityUser | undefined>;
  /** Creates an enabled user with `managed-by` set and `provisioned` not set; returns its id. */
  createUser(user: NewIdentityUser, signal?: AbortSignal): Promise<string>;
  setPassword(userId: string, password: string, signal?: AbortSignal): Promise<void>;
  /** Sets or clears `provisioned=true`; with `grafanaUserId`, records it in the same write. */
  setProvisioned(userId: string, provisioned: boolean, signal?: AbortSignal, grafanaUserId?: number): Promise<void>;
  /**
   * `provisioned=true` and the Grafana id on a user this attempt of a create made: one write
   * of the whole user as `createUser` was given it (no password), without reading it first.
   * Only for such a user: nobody else has its password yet, and nothing but the job writes
   * it. Any other user is marked with `setProvisioned` (a read, then a write).
   */
  setCreatedProvisioned(userId: string, created: CreatedIdentityUser, grafanaUserId: number, signal?: AbortSignal): Promise<void>;
  /** Records (or, with null, forgets) the Grafana account the provisioner made for this user. */
  setGrafanaUserId(userId: string, grafanaUserId: number | null, signal?: AbortSignal): Promise<void>;
  /** Adds `managed-by` (and `provisioned`) to an existing user: adoption of old accounts. */
  adopt(userId: string, signal?: AbortSignal): Promise<void>;
  /** Returns false when the user did not exist. */
  deleteUser(userId: string, signal?: AbortSignal): Promise<boolean>;
  /**
   * Users with `managed-by=k8s-provisioner`, one page at a time (`first` = offset), ordered
   * by username. `usernameContains` narrows the list in Keycloak (a substring match).
   */
  listManaged(first: number, max: number, signal?: AbortSignal, filter?: { usernameContains?: string }): Promise<IdentityPage>;
  /**
   * The same listing, usernames only: Keycloak then loads no attributes, so a walk of users
   * it no longer holds in its cache costs a seventh of a full one (docs/fleet.md).
   */
  listManagedNames?(first: number, max: number, signal?: AbortSignal, filter?: { usernameContains?: string }): Promise<UsernamePage>;
  /** Writes (or, with undefined, clears) the `expires-at` attribute. */
  setExpiresAt?(userId: string, expiresAt: string | undefined, signal?: AbortSignal): Promise<void>;
  /** Records the trainee's quota profile (`PATCH /trainees/:username {profile}`). */
  setProfile?(userId: string, profile: string, signal?: AbortSignal): Promise<void>;
  /**
   * Every user of the realm, managed or not, one page at a time, ordered by username
   * (`usernameContains` as in `listManaged`): for adopting old accounts, and the trainee
   * list's realm walk.
   */
  listUsers?(first: number, max: number, signal?: AbortSignal, filter?: { usernameContains?: string }): Promise<IdentityPage>;
  /**
   * How many users the realm holds (`managed`: only those with `managed-by`), narrowed by
   * `usernameContains` as the listings are: lets the trainee list choose its walk.
   */
  countUsers?(filter: { managed: boolean; usernameContains?: string }, signal?: AbortSignal): Promise<number>;

  // Groups: where cohort membership lives (`cohort-<name>`), so it survives Redis.
  /** The group's id, or undefined when there is no group of exactly that name. */
  findGroup(name: string, signal?: AbortSignal): Promise<string | undefined>;
  /** Makes the group unless it exists; returns its id. */
  ensureGroup(name: string, signal?: AbortSignal): Promise<string>;
  /** Adds the user to the group (idempotent). */
  addToGroup(userId: string, groupId: string, signal?: AbortSignal): Promise<void>;
  /** The group's members, one page at a time (`first` = offset), with their attributes. */
  listGroupMembers(groupId: string, first: number, max: number, signal?: AbortSignal): Promise<IdentityPage>;
  /** Top-level groups whose name starts with `prefix`, one page at a time. */
  listGroups(prefix: string, first: number, max: number, signal?: AbortSignal): Promise<{ groups: { id: string; name: string }[]; next: number | undefined }>;
  /** The names of the groups the user belongs to. */
  groupsOf(userId: string, signal?: AbortSignal): Promise<string[]>;
  /** Returns false when the group did not exist. */
  deleteGroup(groupId: string, signal?: AbortSignal): Promise<boolean>;
}
