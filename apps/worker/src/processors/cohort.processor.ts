import { WaitingChildrenError, type Job, type JobsOptions, type Queue } from 'bullmq';
import {
  COHORT_JOBS,
  ProvisionerError,
  cohortCreateResult,
  cohortCreateRunData,
  cohortDeleteRunData,
  cohortGroupName,
  cohortMemberJobId,
  formatIssues,
  InvalidInputError,
  jobLogFields,
  jobTraceFields,
  parseCohortChildId,
  readJobFailure,
  type CohortChild,
  type CohortCreateResult,
  type CohortExpiryResult,
  cohortExpiryRunData,
  type CohortDeleteResult,
  type CreateJobResult,
  type DeleteJobResult,
  type IdentityPage,
  type IdentityProvider,
  type Logger,
} from '@kup/core';
import type { z } from 'zod';
import { jobFailure } from './job-failure.js';
import type { JobProcessor } from './processor.js';

export interface CohortRunDeps {
  identity: Pick<IdentityProvider, 'ensureGroup' | 'findGroup' | 'listGroupMembers' | 'deleteGroup'>;
  /** The `fleet-user` queue: one child per trainee. */
  children: Pick<Queue, 'addBulk' | 'getJob'>;
  childOptions: JobsOptions;
  log: Logger;
  pageSize?: number;
}

type Step = 'fan-out' | 'wait-children' | 'aggregate';
type ChildSpec = { username: string; data: object };

function parseRun<S extends z.ZodType>(job: Job, schema: S): z.infer<S> {
  const parsed = schema.safeParse(job.data);
  if (!parsed.success) throw jobFailure(new InvalidInputError(formatIssues(parsed.error)));
  return parsed.data;
}

/**
 * The steps every cohort parent goes through (kept in its data, so a crashed parent
 * resumes): `fan-out` adds one child per trainee (fixed ids: adding again is a no-op),
 * `wait-children` parks it, then the children's values and failures are returned.
 */
async function runFlow(
  job: Job,
  token: string | undefined,
  deps: CohortRunDeps,
  child: CohortChild,
  fanOut: () => Promise<ChildSpec[]>,
): Promise<{ values: Map<string, unknown>; failures: { username: string; code: string; message: string }[] }> {
  const data = job.data as { runId: string; state?: { step: Step; added: number } };
  let state = data.state ?? { step: 'fan-out' as Step, added: 0 };
  const save = async (next: typeof state) => {
    state = next;
    await job.updateData({ ...job.data, state });
  };
  if (state.step === 'fan-out') {
    const specs = await fanOut();
    for (let i = 0; i < specs.length; i += 100) {
      await deps.children.addBulk(
        specs.slice(i, i + 100).map(({ username, data: childData }) => ({
          name: COHORT_JOBS[child],
          data: { ...childData, ...jobTraceFields() },
          opts: {
            ...deps.childOptions,
            jobId: cohortMemberJobId(child, data.runId, username),
            parent: { id: job.id as string, queue: job.queueQualifiedName },
            // One trainee's failure is reported by the parent, never fails the others.
            ignoreDependencyOnFailure: true,
          },
        })),
      );
    }
    await job.updateProgress({ step: 'users', done: 0, total: specs.length });
    await save({ step: 'wait-children', added: specs.length });
  }
  if (state.step === 'wait-children') {
    if (token && (await job.moveToWaitingChildren(token))) throw new WaitingChildrenError();
    await save({ ...state, step: 'aggregate' });
  }
  const values = new Map<string, unknown>();
  for (const [key, value] of Object.entries(await job.getChildrenValues())) values.set(parseCohortChildId(key)?.username ?? key, value);
  const failures = [];
  for (const [key, failedReason] of Object.entries(await job.getIgnoredChildrenFailures())) {
    const childJob = await deps.children.getJob(key.slice(key.lastIndexOf(':') + 1));
    failures.push({ username: parseCohortChildId(key)?.username ?? key, ...readJobFailure({ data: childJob?.data, failedReason }) });
  }
  failures.sort((a, b) => a.username.localeCompare(b.username));
  await job.updateProgress({ step: 'done', done: values.size + failures.length, total: values.size + failures.length });
  return { values, failures };
}

/** `cohort-create` and `cohort-delete`: the parents of a cohort's flows, on `QUEUES.fleet`. */
export function cohortRunProcessors(deps: CohortRunDeps): Record<string, JobProcessor> {
  const pageSize = deps.pageSize ?? 100;

  const create: JobProcessor = async (job, token, signal) => {
    const data = parseRun(job, cohortCreateRunData);
    const log = deps.log.child({ jobId: job.id, cohort: data.cohort, ...jobLogFields(job) });
    const { values, failures } = await runFlow(job, token, deps, 'memberCreate', async () => {
      // The group exists from the start: the cohort is listed even while its members are made.
      await deps.identity.ensureGroup(cohortGroupName(data.cohort), signal).catch((error: unknown) => {
        throw jobFailure(error);
      });
      const common = { cohort: data.cohort, runId: data.runId, ...(data.expiresAt ? { expiresAt: data.expiresAt } : {}), ...(data.profile ? { profile: data.profile } : {}) };
      return data.members.map((member) => ({ username: member.username, data: { ...member, ...common } }));
    });
    const results = [...values.values()] as CreateJobResult[];
    const created = results.filter((r) => !r.alreadyProvisioned).map((r) => r.username).sort();
    const already = results.filter((r) => r.alreadyProvisioned).map((r) => r.username).sort();
    log.info({ created: created.length, alreadyProvisioned: already.length, failed: failures.length }, 'cohort created');
    const result: CohortCreateResult = {
      cohort: data.cohort,
      summary: `Cohort ${data.cohort}: ${created.length} of ${data.members.length} trainees created${already.length ? `, ${already.length} already provisioned` : ''}${failures.length ? `, ${failures.length} failed` : ''}`,
      total: data.members.length,
      created,
      alreadyProvisioned: already,
      failures,
      credentialsUrl: `/cohorts/${data.cohort}/credentials`,
    };
    return cohortCreateResult.parse(result);
  };

  /** Every member's username: all of them first, since deletions shift the group's paging offsets. */
  const memberNames = async (cohort: string, signal: AbortSignal | undefined): Promise<string[]> => {
    const id = await deps.identity.findGroup(cohortGroupName(cohort), signal).catch((error: unknown) => {
      throw jobFailure(error);
    });
    if (!id) throw jobFailure(new ProvisionerError('COHORT_NOT_FOUND', `no cohort "${cohort}"`));
    const usernames = new Set<string>();
    for (let first: number | undefined = 0; first !== undefined; ) {
      const page: IdentityPage = await deps.identity.listGroupMembers(id, first, pageSize, signal).catch((error: unknown) => {
        throw jobFailure(error);
      });
      for (const user of page.users) usernames.add(user.username);
      first = page.next;
    }
    return [...usernames];
  };

  const remove: JobProcessor = async (job, token, signal) => {
    const data = parseRun(job, cohortDeleteRunData);
    const log = deps.log.child({ jobId: job.id, cohort: data.cohort, ...jobLogFields(job) });
    const { values, failures } = await runFlow(job, token, deps, 'memberDelete', async () =>
      (await memberNames(data.cohort, signal)).map((username) => ({ username, data: { usernames: [username], cohort: data.cohort, runId: data.runId } })),
    );
    const deleted = ([...values.values()] as DeleteJobResult[]).filter((r) => r.found).map((r) => r.username).sort();
    // The group goes with its last member; kept while a member could not be deleted.
    let groupDeleted = false;
    if (failures.length === 0) {
      const id = await deps.identity.findGroup(cohortGroupName(data.cohort), signal).catch((error: unknown) => {
        throw jobFailure(error);
      });
      groupDeleted = id ? await deps.identity.deleteGroup(id, signal).catch((error: unknown) => {
        throw jobFailure(error);
      }) : true;
    }
    log.info({ deleted: deleted.length, failed: failures.length, groupDeleted }, 'cohort deleted');
    const result: CohortDeleteResult = {
      cohort: data.cohort,
      summary: `Cohort ${data.cohort}: ${deleted.length} of ${values.size + failures.length} trainees deleted${failures.length ? `, ${failures.length} failed` : ''}`,
      total: values.size + failures.length,
      deleted,
      failures,
      groupDeleted,
    };
    return result;
  };

  const expiry: JobProcessor = async (job, token, signal) => {
    const data = parseRun(job, cohortExpiryRunData);
    const { values, failures } = await runFlow(job, token, deps, 'memberExpiry', async () =>
      (await memberNames(data.cohort, signal)).map((username) => ({ username, data: { username, expiresAt: data.expiresAt, cohort: data.cohort, runId: data.runId } })),
    );
    const changed = [...values.keys()].sort();
    deps.log.info({ jobId: job.id, cohort: data.cohort, changed: changed.length, failed: failures.length }, 'cohort expiry changed');
    const result: CohortExpiryResult = {
      cohort: data.cohort,
      summary: `Cohort ${data.cohort}: expiry of ${changed.length} of ${changed.length + failures.length} trainees set to ${data.expiresAt}`,
      expiresAt: data.expiresAt,
      total: changed.length + failures.length,
      changed,
      failures,
    };
    return result;
  };

  return { [COHORT_JOBS.create]: create, [COHORT_JOBS.delete]: remove, [COHORT_JOBS.expiry]: expiry };
}
