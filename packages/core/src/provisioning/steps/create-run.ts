import type { PlaygroundSettings } from '../../domain/trainee-plan.js';
import type { ClusterGateway } from '../../ports/cluster-gateway.js';
import type { GrafanaGateway, GrafanaRole } from '../../ports/grafana-gateway.js';
import type { CreatedIdentityUser, IdentityProvider, IdentityUser } from '../../ports/identity-provider.js';
import type { CreateJobData, CreateJobResult } from '../../queue/contract.js';
import type { PlaygroundRun } from './playground-run.js';
import type { LeftGrafanaAccountStore } from './grafana-account.js';
import type { IdentityGuards } from '../ownership.js';
import type { CreateState, StepContext } from '../step-context.js';

export interface ProvisioningDeps {
  identity: IdentityProvider;
  cluster: ClusterGateway;
  grafana: GrafanaGateway;
  settings: PlaygroundSettings;
  grafanaOrgId: number;
  grafanaRole: GrafanaRole;
  defaultExpiryDays: number;
  namespaceDeleteTimeoutMs: number;
  /** Reserved namespaces and Grafana's denied logins (default: `defaultGuards()`). */
  guards?: IdentityGuards;
  /**
   * The Grafana accounts failed creates left, by username (grafana-account.ts): written by
   * the undo, read when the login is taken. Without it, only the job's own state records them.
   */
  leftAccounts?: LeftGrafanaAccountStore;
  now?: () => Date;
}

/**
 * One attempt of a create, as its steps share it. Only `ctx.state` outlives the attempt
 * (persisted in the job); the rest is found again by the next attempt's steps.
 */
export interface CreateRun extends PlaygroundRun {
  deps: ProvisioningDeps & { guards: IdentityGuards; now: () => Date };
  input: CreateJobData;
  ctx: StepContext<CreateState>;
  /** No state from an earlier attempt: Keycloak is asked to create the user before any lookup. */
  firstAttempt?: boolean;
  user?: IdentityUser;
  /** The user as this attempt created it (none when an earlier attempt did, or it was there): its mark needs no read. */
  created?: { id: string; user: CreatedIdentityUser };
  password?: string;
  grafanaUserId?: number;
  result?: CreateJobResult;
  /** The rollback could not remove the job's Grafana account: the Keycloak user stays, as its record. */
  grafanaLeft?: boolean;
}

/** What a step needs that an earlier step of this attempt found. */
export function need<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`create step run out of order: no ${what} yet`);
  return value;
}
