import { sameEmail } from '../../domain/identity.js';
import { UpstreamError } from '../../errors.js';
import type { GrafanaGateway, GrafanaUser } from '../../ports/grafana-gateway.js';
import type { IdentityUser } from '../../ports/identity-provider.js';
import { EmailConflictError, grafanaEmail, isDeniedGrafanaUser, ownsGrafanaAccount, type IdentityGuards } from '../ownership.js';

/** What a run knows of the Grafana account it may have made itself. */
export interface GrafanaRecord {
  /** The id of the account this run made (recorded right after it was made). */
  madeId?: number | undefined;
  /** This run found the login free and went on to make the account (its answer may have been lost). */
  making?: boolean | undefined;
}

/**
 * The Grafana account a create made for a Keycloak user, as its final failure leaves it: until
 * `finish` writes the id on the user, the failed job's state is the only record of it, and a
 * new POST of the same trainee replaces that job (same id), state and all. So the create's
 * undo also keeps it by username (`LeftGrafanaAccounts`), out of the job, for the next create
 * and sync's rollback; never a secret.
 */
export interface LeftGrafanaAccount {
  /** The Keycloak user the account was made for: the record speaks for that user alone. */
  userId: string;
  /** The account's id, when the create had learnt it (else: our login with our email). */
  grafanaUserId?: number | undefined;
}

/** Where left accounts are kept, one per username (Redis in the worker, store/left-grafana-accounts.ts). */
export interface LeftGrafanaAccountStore {
  get(username: string): Promise<LeftGrafanaAccount | undefined>;
  put(username: string, account: LeftGrafanaAccount): Promise<void>;
  clear(username: string): Promise<void>;
}

/** What a left account's record proves for this Keycloak user: the failed create's own record, as its state gave it. */
export function leftAccountRecord(left: LeftGrafanaAccount | undefined, user: Pick<IdentityUser, 'id'>): GrafanaRecord | undefined {
  return left !== undefined && left.userId === user.id ? { madeId: left.grafanaUserId, making: true } : undefined;
}

/**
 * Whether the Grafana account found under a trainee's login is ours: the one this run made
 * (its recorded id; or, the answer lost, our login with our email), else what the Keycloak
 * user records (ownership.ts). The deny list wins over every record.
 */
export function isOurGrafanaAccount(
  found: GrafanaUser,
  user: Pick<IdentityUser, 'username' | 'email' | 'grafanaUserId'>,
  record: GrafanaRecord,
  guards: IdentityGuards,
): boolean {
  if (isDeniedGrafanaUser(found, guards)) return false;
  if (record.madeId !== undefined) return found.id === record.madeId;
  if (record.making) return found.login === user.username && sameEmail(found.email, grafanaEmail(user.username, user.email));
  return ownsGrafanaAccount(found, user, guards);
}

export interface NewGrafanaAccount {
  login: string;
  /** The trainee's email (the login stands in when there is none). */
  email: string | undefined;
  name: string;
  password: string;
  orgId: number;
}

/**
 * Makes the trainee's Grafana account: the one place that does. Another account already
 * using the email is an EMAIL_CONFLICT (Grafana needs unique emails), checked before
 * anything is made. `beforeMaking` records that the run is making it (ownership), so a crash
 * between the create and its answer never orphans the account.
 */
export async function createGrafanaAccount(
  grafana: GrafanaGateway,
  account: NewGrafanaAccount,
  beforeMaking: () => Promise<void>,
  signal?: AbortSignal,
): Promise<number> {
  const email = grafanaEmail(account.login, account.email);
  const byEmail = email === account.login ? undefined : await grafana.findUser(email, signal);
  if (byEmail) throw new EmailConflictError('grafana', account.login);
  await beforeMaking();
  return grafana.createUser({ login: account.login, email, name: account.name, password: account.password, orgId: account.orgId }, signal);
}

/**
 * Makes the account without looking first, for a run that never reached Grafana: Grafana
 * refuses a taken login or email with 412 and makes nothing, and then the mark is taken
 * back and undefined returned, for the caller to look both up and judge. `making` records
 * ownership before the create is sent, as `createGrafanaAccount`'s `beforeMaking` does.
 */
export async function createGrafanaAccountFirst(
  grafana: GrafanaGateway,
  account: NewGrafanaAccount,
  marks: { making: () => Promise<void>; notMade: () => Promise<void> },
  signal?: AbortSignal,
): Promise<number | undefined> {
  await marks.making();
  try {
    const email = grafanaEmail(account.login, account.email);
    return await grafana.createUser({ login: account.login, email, name: account.name, password: account.password, orgId: account.orgId }, signal);
  } catch (error) {
    if (!(error instanceof UpstreamError && error.status === 412)) throw error;
    await marks.notMade();
    return undefined;
  }
}

/**
 * The trainee's account when their login leads to none: the one whose id the Keycloak user
 * records. A trainee may rename their own login (Grafana's `PUT /api/user`); the id, which
 * they cannot change, still finds it. Never a server admin or a denied login.
 */
export async function renamedGrafanaAccount(
  grafana: Pick<GrafanaGateway, 'getUser'>,
  user: Pick<IdentityUser, 'grafanaUserId'>,
  guards: IdentityGuards,
  signal?: AbortSignal,
): Promise<GrafanaUser | undefined> {
  if (typeof user.grafanaUserId !== 'number') return undefined;
  const byId = await grafana.getUser(user.grafanaUserId, signal);
  return byId && !isDeniedGrafanaUser(byId, guards) ? byId : undefined;
}
