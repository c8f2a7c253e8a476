import { TraineeNotProvisionedError, UserNotFoundError } from '../errors.js';
import type { GrafanaGateway, GrafanaUser } from '../ports/grafana-gateway.js';
import type { IdentityProvider, IdentityUser } from '../ports/identity-provider.js';
import { defaultGuards, isDeniedGrafanaUser, ownsGrafanaAccount, type IdentityGuards } from '../provisioning/ownership.js';
import type { StepContext } from '../provisioning/step-context.js';
import type { ResetPasswordJobResult } from '../queue/password-contract.js';

/** What a reset needs of its job: the job's sealed password, the attempt's signal and log. */
export type PasswordResetContext = Pick<StepContext<object>, 'password' | 'signal' | 'log'>;

/**
 * Replaces a provisioned trainee's password (they lost it): the job's own password, sealed
 * under its key before anything is written, set in Keycloak and on the trainee's Grafana
 * account. A retry reads the same sealed password back and sets it again: both writes are
 * idempotent, so a run cut off half-way ends with one password everywhere.
 *
 * Grafana's account is the one whose id the Keycloak user records, found by that id; no
 * other account is touched (ownership.ts), and the result says why Grafana was left alone.
 */
export class PasswordResetService {
  constructor(
    private readonly ports: { identity: Pick<IdentityProvider, 'findUser' | 'setPassword'>; grafana: Pick<GrafanaGateway, 'findUser' | 'getUser' | 'setPassword'> },
    private readonly guards: IdentityGuards = defaultGuards(),
  ) {}

  async reset(username: string, ctx: PasswordResetContext): Promise<ResetPasswordJobResult> {
    const user = await this.ports.identity.findUser(username, ctx.signal);
    if (!user?.managed) throw new UserNotFoundError(username);
    // A half-made trainee may be a create still running, or one to roll back: sync decides.
    if (!user.provisioned) throw new TraineeNotProvisionedError(username, 'reset the password');
    // Sealed before the first write: every attempt sets this same password.
    const password = await ctx.password();
    await this.ports.identity.setPassword(user.id, password, ctx.signal);
    const grafana = await this.resetGrafana(user, password, ctx);
    ctx.log.info({ keycloak: true, grafana: grafana.done }, 'password reset');
    return { username, reset: { keycloak: true, grafana: grafana.done }, ...(grafana.skipped ? { grafanaSkipped: grafana.skipped } : {}), passwordIssued: true };
  }

  private async resetGrafana(user: IdentityUser, password: string, ctx: PasswordResetContext): Promise<{ done: boolean; skipped?: string }> {
    const account = await this.recordedAccount(user, ctx.signal);
    if (!account) return { done: false, skipped: 'the trainee has no Grafana account (POST /sync makes one again)' };
    if (account === 'not ours') {
      ctx.log.warn({ grafanaUserId: user.grafanaUserId }, 'grafana account not proven the trainee\'s: left alone');
      return { done: false, skipped: 'the Grafana account found is not proven the trainee\'s (a server admin, a denied login, or a login without their record): left alone' };
    }
    await this.ports.grafana.setPassword(account.id, password, ctx.signal);
    return { done: true };
  }

  /**
   * The trainee's Grafana account: by the id the Keycloak user records (a trainee may have
   * renamed their login; the id still leads to it), a denied login or server admin excepted.
   * The id found nothing (or none is recorded): the login, judged by ownership.ts (the
   * recorded id again, or for a user made before ids were recorded, login and email).
   */
  private async recordedAccount(user: IdentityUser, signal?: AbortSignal): Promise<GrafanaUser | undefined | 'not ours'> {
    const { grafana } = this.ports;
    const byId = typeof user.grafanaUserId === 'number' ? await grafana.getUser(user.grafanaUserId, signal) : undefined;
    if (byId) return isDeniedGrafanaUser(byId, this.guards) ? 'not ours' : byId;
    const byLogin = await grafana.findUser(user.username, signal);
    if (!byLogin) return undefined;
    return ownsGrafanaAccount(byLogin, user, this.guards) ? byLogin : 'not ours';
  }
}
