/** Grafana as the domain sees it. Implemented by `packages/adapters/src/grafana.adapter.ts`. */

export type GrafanaRole = 'Viewer' | 'Editor' | 'Admin' | 'None';

export interface GrafanaUser {
  id: number;
  login: string;
  email: string;
  /** A Grafana server admin: never the provisioner's to change or remove. */
  isGrafanaAdmin?: boolean;
}

export interface NewGrafanaUser {
  login: string;
  email: string;
  name: string;
  password: string;
  orgId: number;
}

export interface GrafanaGateway {
  /** By login or email; undefined when absent. */
  findUser(loginOrEmail: string, signal?: AbortSignal): Promise<GrafanaUser | undefined>;
  /**
   * By id; undefined when absent. A signed-in user can change their own login (`PUT /api/user`),
   * so the id the Keycloak user records is what still leads to the trainee's account.
   */
  getUser(userId: number, signal?: AbortSignal): Promise<GrafanaUser | undefined>;
  /** Returns the new user's id. A login or email that exists is an `UpstreamError` 412. */
  createUser(user: NewGrafanaUser, signal?: AbortSignal): Promise<number>;
  setPassword(userId: number, password: string, signal?: AbortSignal): Promise<void>;
  setOrgRole(orgId: number, userId: number, role: GrafanaRole, signal?: AbortSignal): Promise<void>;
  /** Returns false when the user did not exist. */
  deleteUser(userId: number, signal?: AbortSignal): Promise<boolean>;
}
