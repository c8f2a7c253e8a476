import { UserNotFoundError } from '../errors.js';
import { ANNOTATIONS, LABELS, namespaceManifest } from '../domain/trainee-plan.js';
import type { ClusterGateway } from '../ports/cluster-gateway.js';
import { MANAGED_BY, type IdentityProvider } from '../ports/identity-provider.js';
import type { DeleteState } from '../provisioning/step-context.js';
import type { ExpireJobResult, SetExpiryJobData, SetExpiryJobResult } from '../queue/trainee-contract.js';
import { traineeOf, type FleetSettings } from './fleet-context.js';

/**
 * A trainee's expiry on time. Each trainee has one delayed `expire` job, due at its
 * `expiresAt`; moving the expiry moves the job. The job decides nothing from its own data:
 * when it runs it reads the expiry Keycloak holds now, and removes the trainee only if
 * that moment has passed (otherwise it is due again then). So a stale job, or one a
 * trainer's extension did not reach, never removes a trainee whose expiry is ahead.
 */

export interface ExpiryScheduler {
  /** Makes the trainee's expire job due at `expiresAt` (adds it, or moves the one waiting). */
  schedule(username: string, expiresAt: string): Promise<void>;
}

export interface ExpiryPorts {
  identity: Pick<IdentityProvider, 'findUser' | 'setExpiresAt'>;
  cluster: Pick<ClusterGateway, 'getNamespace' | 'apply'>;
}

/**
 * What an `expire` job keeps between attempts: its delete's progress, and the expiry that
 * decided it (Keycloak's, gone with the user once the delete has removed it).
 */
export interface ExpireState extends DeleteState {
  expiresAt?: string;
}

/** What an `expire` job found: remove the trainee now, wait until `dueAt`, or nothing to do. */
export type ExpiryVerdict =
  | { action: 'delete'; expiresAt: string }
  | { action: 'wait'; dueAt: number; expiresAt: string }
  | { action: 'skip'; result: ExpireJobResult };

export class ExpiryService {
  constructor(
    private readonly ports: ExpiryPorts,
    private readonly settings: Pick<FleetSettings, 'playground' | 'defaultExpiryDays'>,
    private readonly scheduler: ExpiryScheduler,
    private readonly now: () => number = Date.now,
  ) {}

  /** The expire job's first step: Keycloak's expiry, read now, decides. */
  async verdict(username: string, signal?: AbortSignal): Promise<ExpiryVerdict> {
    const skip = (skipped: string, expiresAt: string | null = null): ExpiryVerdict => ({ action: 'skip', result: { username, deleted: false, expiresAt, skipped } });
    const user = await this.ports.identity.findUser(username, signal);
    if (!user?.managed) return skip('no managed user of that name');
    if (user.expiresAt === undefined) return skip('the trainee has no expiry');
    const dueAt = Date.parse(user.expiresAt);
    if (!Number.isFinite(dueAt)) return skip('the expiry is not a date', user.expiresAt);
    return dueAt > this.now() ? { action: 'wait', dueAt, expiresAt: user.expiresAt } : { action: 'delete', expiresAt: user.expiresAt };
  }

  /**
   * Moves a trainee's expiry (earlier or later): Keycloak's `expires-at` first (what
   * cleanup and the expire job read), then the namespace's annotation, then the job.
   * Each write is idempotent: a retry does them all again.
   */
  async setExpiry(input: SetExpiryJobData, signal?: AbortSignal): Promise<SetExpiryJobResult> {
    const { identity, cluster } = this.ports;
    const user = await identity.findUser(input.username, signal);
    if (!user?.managed || !identity.setExpiresAt) throw new UserNotFoundError(input.username);
    const expiresAt = new Date(Date.parse(input.expiresAt)).toISOString();
    const previous = user.expiresAt ?? null;
    await identity.setExpiresAt(user.id, expiresAt, signal);

    const namespace = await cluster.getNamespace(input.username, signal);
    const ours = namespace?.labels[LABELS.managedBy] === MANAGED_BY && namespace.phase !== 'Terminating';
    if (namespace && ours) {
      const trainee = traineeOf(user, namespace, this.settings.defaultExpiryDays);
      // The whole namespace as the plan has it (server-side apply drops fields its manager stops sending), its creation date kept.
      const createdAt = namespace.annotations[ANNOTATIONS.createdAt] ?? trainee.createdAt;
      await cluster.apply(namespaceManifest(this.settings.playground, { ...trainee, createdAt, expiresAt }), signal);
    }
    await this.scheduler.schedule(input.username, expiresAt);
    return { username: input.username, expiresAt, previous, namespaceUpdated: ours };
  }
}
