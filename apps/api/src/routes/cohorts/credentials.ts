import type { Job, Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { stringify } from 'csv-stringify/sync';
import { cohortCreateJobId, cohortCreateRunData, cohortMemberJobId, createJobResult, secretKeyOf, type SecretStore } from '@kup/core';
import { HttpError } from '../../http/http-error.js';

export interface CredentialsDeps {
  fleet: Pick<Queue, 'getJob'>;
  fleetUser: Pick<Queue, 'getJob'>;
  secrets: Pick<SecretStore, 'get' | 'remove'>;
  redis: Pick<Redis, 'set' | 'del'>;
  prefix: string;
}

/** How long "already read" is remembered: as long as a failed job is (its children's retention). */
const READ_MARK_SECONDS = 30 * 86_400;
const FINISHED = new Set(['completed', 'failed']);

/**
 * The cohort's credentials as CSV (`username,email,password,namespace`), read once: the
 * first read takes the sealed passwords of the cohort's children out of Redis, so a later
 * read (or `GET /jobs/<child>`) finds nothing, and says so. A class list is a hand-out
 * document: once the trainer has it, no second copy should be obtainable with the token.
 * Unread, they go by themselves after PASSWORD_TTL_SECONDS, as a single create's do.
 */
export async function readCohortCredentials(deps: CredentialsDeps, cohort: string): Promise<string> {
  const parent = await deps.fleet.getJob(cohortCreateJobId(cohort));
  if (!parent) throw new HttpError(404, `No creation of cohort "${cohort}" is known (never made, or finished more than 7 days ago)`, 'COHORT_NOT_FOUND');
  const state = await parent.getState();
  if (!FINISHED.has(state)) {
    const progress = parent.progress as { done?: number; total?: number } | undefined;
    throw new HttpError(409, `Cohort "${cohort}" is still being created (${progress?.done ?? 0} of ${progress?.total ?? '?'} trainees done); read its credentials once it has finished`, 'COHORT_PENDING');
  }
  const data = cohortCreateRunData.safeParse(parent.data);
  if (!data.success) throw new HttpError(410, `The creation job of cohort "${cohort}" holds no member list`, 'CREDENTIALS_GONE');

  const mark = `${deps.prefix}:cohort-credentials-read:${secretKeyOf(parent)}`;
  const readAt = await deps.redis.set(mark, new Date().toISOString(), 'EX', READ_MARK_SECONDS, 'NX', 'GET');
  if (readAt !== null) {
    throw new HttpError(410, `The credentials of cohort "${cohort}" were already read (${readAt}); a lost password is replaced per trainee with POST /trainees/<username>/password (CLI: provisioner trainees reset-password <username>)`, 'CREDENTIALS_GONE');
  }
  try {
    const rows: string[][] = [];
    const read: Job[] = [];
    for (const member of data.data.members) {
      const child = await deps.fleetUser.getJob(cohortMemberJobId('memberCreate', data.data.runId, member.username));
      if (!child || (await child.getState()) !== 'completed') continue;
      const result = createJobResult.safeParse(child.returnvalue);
      if (!result.success || !result.data.passwordIssued) continue;
      const password = await deps.secrets.get(secretKeyOf(child));
      if (password === undefined) continue;
      rows.push([result.data.username, result.data.email ?? '', password, result.data.namespace]);
      read.push(child);
    }
    if (rows.length === 0) {
      throw new HttpError(410, `Cohort "${cohort}" has no credentials left to read: none was issued, or they expired (PASSWORD_TTL_SECONDS)`, 'CREDENTIALS_GONE');
    }
    const csv = stringify(rows, { header: true, columns: ['username', 'email', 'password', 'namespace'] });
    for (const child of read) await deps.secrets.remove(secretKeyOf(child));
    return csv;
  } catch (error) {
    // Nothing was handed out: a later read may try again.
    if (!(error instanceof HttpError)) await deps.redis.del(mark).catch(() => undefined);
    throw error;
  }
}
