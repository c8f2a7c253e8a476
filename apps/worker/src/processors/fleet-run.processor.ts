import { WaitingChildrenError, type Job, type JobsOptions, type Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import {
  aggregateCleanup,
  aggregateReset,
  aggregateSync,
  cleanupNeedsGuard,
  cleanupReason,
  cohortGroupName,
  failuresFromReasons,
  guardCleanupShare,
  fanOut,
  FLEET_CHILD_OF,
  fleetChildJobId,
  fleetRunSchemas,
  initialFanOut,
  isFleetKind,
  jobLogFields,
  jobTraceFields,
  matchesPrefix,
  UserNotFoundError,
  formatIssues,
  InvalidInputError,
  ProvisionerError,
  type ChildSink,
  type CleanupRunData,
  type CleanupUserResult,
  type FanOutListing,
  type FanOutState,
  type FleetKind,
  type FleetRunData,
  type IdentityProvider,
  type IdentityUser,
  type Logger,
  type ResetRunData,
  type SyncRunData,
  type ResetUserResult,
  type SyncUserResult,
} from '@kup/core';
import { jobFailure } from './job-failure.js';
import type { JobProcessor } from './processor.js';

export interface FleetRunProcessorDeps {
  identity: Pick<IdentityProvider, 'findUser' | 'listManaged' | 'findGroup' | 'listGroupMembers'> & Partial<Pick<IdentityProvider, 'listManagedNames'>>;
  /** The `fleet-user` queue: children are added there, one per trainee. */
  children: Pick<Queue, 'addBulk' | 'getJob'>;
  /** For the per-run set of usernames already given a child. */
  redis: Pick<Redis, 'smismember' | 'multi' | 'unlink'>;
  /** The queue prefix (QUEUE_PREFIX): the seen-sets live beside the queues. */
  prefix: string;
  /** Retry and retention options of each child. */
  childOptions: JobsOptions;
  log: Logger;
  pageSize?: number;
  maxPasses?: number;
  /** CLEANUP_MAX_SHARE_WITHOUT_CONFIRM (default 1: no guard). */
  cleanupMaxShare?: number;
}

const SEEN_TTL_SECONDS = 7 * 86_400;

/**
 * Users per listing page. Keycloak's `q=` attribute search costs, per page, about as much as
 * the number of users it matches (the offset itself is cheap), so with small pages a listing
 * of N users costs ~N²/page: large pages keep the time per user nearly flat in N (bench/p5-paging.ts).
 */
export const FLEET_PAGE_SIZE = 1000;

/** Which users a run of this kind works on (before the optional prefix filter). */
function selector(kind: FleetKind, data: FleetRunData): (user: IdentityUser) => boolean {
  const scoped = (user: IdentityUser) => user.managed && matchesPrefix(user.username, data.usernamePrefix);
  switch (kind) {
    case 'reset':
      return (user) => scoped(user) && user.provisioned;
    case 'cleanup': {
      const { maxAgeDays } = data as CleanupRunData;
      const now = Date.parse(data.requestedAt);
      return (user) => scoped(user) && cleanupReason(user, now, maxAgeDays) !== undefined;
    }
    case 'sync':
      return scoped;
  }
}

/** What the listing knew of a user, for a purge child (it then needs no Keycloak lookup of its own). */
function listedOf(user: IdentityUser | undefined): object {
  if (!user) return {};
  return { listed: { id: user.id, createdAt: user.createdAt, ...(user.email ? { email: user.email } : {}), ...(user.expiresAt ? { expiresAt: user.expiresAt } : {}) } };
}

/** All the listing knew of a user, for a sync dry-run child (it reports as of the listing, asking Keycloak nothing). */
function listedIdentityOf(user: IdentityUser | undefined): object {
  if (!user) return {};
  const { id, createdAt, email, expiresAt, enabled, managed, provisioned, fullName, grafanaUserId, profile } = user;
  // Undefined fields go as the job's JSON drops them; null (a provisioner's "no account yet") is kept.
  return { listed: { id, createdAt, email, expiresAt, enabled, managed, provisioned, fullName, grafanaUserId, profile } };
}

function childData(kind: FleetKind, data: FleetRunData, username: string, user: IdentityUser | undefined): object {
  switch (kind) {
    case 'reset': {
      const mode = (data as ResetRunData).mode;
      return { runId: data.runId, username, mode, ...(mode === 'purge' ? listedOf(user) : {}) };
    }
    case 'cleanup': {
      const { maxAgeDays, dryRun } = data as CleanupRunData;
      return { runId: data.runId, username, now: Date.parse(data.requestedAt), maxAgeDays, dryRun };
    }
    case 'sync': {
      const { resetPasswords, dryRun } = data as SyncRunData;
      return { runId: data.runId, username, ...(resetPasswords ? { resetPasswords } : {}), ...(dryRun ? { dryRun, ...listedIdentityOf(user) } : {}) };
    }
  }
}

/** The run's set of usernames its pages showed; kept until its fan-out is done (at most a week). */
const seenKeyOf = (prefix: string, runId: string) => `${prefix}:fleet-run:${runId}:seen`;

/**
 * Adds the children of one page. Which usernames are new is read first (a Redis set per
 * run), the children are added (idempotent: fixed ids), and only then marked seen: a
 * crash in between re-adds (a no-op), it never loses a child. The page's other users are
 * marked seen with them, so that a later pass, reading usernames only, knows them too.
 */
function childSink(job: Job, kind: FleetKind, data: FleetRunData, deps: FleetRunProcessorDeps): ChildSink {
  const seenKey = seenKeyOf(deps.prefix, data.runId);
  const unseen = async (usernames: string[]) => {
    const flags = await deps.redis.smismember(seenKey, ...usernames);
    return usernames.filter((_, i) => flags[i] === 0);
  };
  return {
    unseen,
    addNew: async (usernames, listed, others = []) => {
      const fresh = usernames.length > 0 ? await unseen(usernames) : [];
      if (fresh.length > 0) {
        await deps.children.addBulk(
          fresh.map((username) => ({
            name: FLEET_CHILD_OF[kind],
            // The run's request id and trace context (its consumer span) carry on to each child.
            data: { ...childData(kind, data, username, listed?.get(username)), ...jobTraceFields() },
            opts: {
              ...deps.childOptions,
              jobId: fleetChildJobId(kind, data.runId, username),
              parent: { id: job.id as string, queue: job.queueQualifiedName },
              // One trainee's failure is reported by the parent, never fails the run.
              ignoreDependencyOnFailure: true,
            },
          })),
        );
      }
      const seen = [...fresh, ...others];
      if (seen.length > 0) await deps.redis.multi().sadd(seenKey, ...seen).expire(seenKey, SEEN_TTL_SECONDS).exec();
      return fresh.length;
    },
  };
}

/** Children's results read per round trip when a run ends. */
export const CHILD_RESULTS_PAGE = 1000;

/**
 * The results of a run's children, read a page at a time: one HGETALL of 20,000 results held
 * the reply, its strings and their parse at once (about 8, 8 and 11 MB) in the worker's heap.
 * A field a scan returns twice counts once (keyed by child).
 */
export async function childResults(job: Pick<Job, 'getDependencies'>, pageSize = CHILD_RESULTS_PAGE): Promise<unknown[]> {
  const values = new Map<string, unknown>();
  let cursor = 0;
  do {
    const page = await job.getDependencies({ processed: { cursor, count: pageSize } });
    for (const [key, value] of Object.entries(page.processed ?? {})) values.set(key, value);
    cursor = page.nextProcessedCursor ?? 0;
  } while (cursor !== 0);
  return [...values.values()];
}

/** The failures of the children that gave up, each read from the data its worker stored. */
async function childFailures(job: Job, children: Pick<Queue, 'getJob'>) {
  const reasons = await job.getIgnoredChildrenFailures();
  const data = new Map<string, unknown>();
  for (const key of Object.keys(reasons)) data.set(key, (await children.getJob(key.slice(key.lastIndexOf(':') + 1)))?.data);
  return failuresFromReasons(reasons, (key) => data.get(key));
}

/** A single-user run: the user must exist in the shape the kind works on, else 404-style failure. */
async function checkSingleUser(kind: FleetKind, username: string, deps: FleetRunProcessorDeps, signal?: AbortSignal): Promise<void> {
  const user = await deps.identity.findUser(username, signal);
  const ok = user?.managed && (kind !== 'reset' || user.provisioned);
  if (!ok) throw new UserNotFoundError(username);
}

/** Whom a run pages through: the managed users, or a cohort's members (its Keycloak group). */
async function listingOf(data: FleetRunData, deps: FleetRunProcessorDeps, signal?: AbortSignal): Promise<FanOutListing> {
  const cohort = 'cohort' in data ? data.cohort : undefined;
  // A run scoped by prefix asks Keycloak for the usernames containing it (the selector keeps
  // those that start with it): paging every managed user would cost a run over a few of
  // them as much as one over thousands.
  const prefix = data.usernamePrefix;
  if (!cohort && prefix) {
    const filter = { usernameContains: prefix };
    const names = deps.identity.listManagedNames?.bind(deps.identity);
    return {
      listManaged: (first, max, abort) => deps.identity.listManaged(first, max, abort, filter),
      ...(names ? { listManagedNames: (first: number, max: number, abort?: AbortSignal) => names(first, max, abort, filter) } : {}),
    };
  }
  if (!cohort) return deps.identity;
  const groupId = await deps.identity.findGroup(cohortGroupName(cohort), signal);
  if (!groupId) throw new ProvisionerError('COHORT_NOT_FOUND', `no cohort "${cohort}"`);
  return { listManaged: (first, max, abort) => deps.identity.listGroupMembers(groupId, first, max, abort) };
}

/**
 * The parent of a fleet run (`reset`, `cleanup`, `sync` on `QUEUES.fleet`), in steps kept
 * in its data (BullMQ's "process in steps" pattern): `fan-out` pages through the managed
 * users adding one child per trainee; `wait-children` parks the job until they are all
 * done; `aggregate` reads their results and ignored failures into the old statistics.
 */
export function fleetRunProcessor(deps: FleetRunProcessorDeps): JobProcessor {
  const pageSize = deps.pageSize ?? FLEET_PAGE_SIZE;
  const maxPasses = deps.maxPasses ?? 3;

  return async (job, token, signal) => {
    const kind = job.name;
    if (!isFleetKind(kind)) throw jobFailure(new ProvisionerError('UNKNOWN_JOB', `"${kind}" is not a fleet run`));
    const parsed = fleetRunSchemas[kind].safeParse(job.data);
    if (!parsed.success) throw jobFailure(new InvalidInputError(formatIssues(parsed.error)));
    const data = parsed.data;
    const log = deps.log.child({ jobId: job.id, runId: data.runId, kind, ...jobLogFields(job) });
    let state: FanOutState = data.state ?? initialFanOut();
    const save = async (next: FanOutState) => {
      state = next;
      await job.updateData({ ...job.data, state });
      await job.updateProgress({ step: state.step === 'fan-out' ? `listing users (pass ${state.pass})` : 'waiting for users', done: 0, total: state.added });
    };

    try {
      // Before the first child of a cleanup: refuse one that would delete too many at once.
      const cleanupData = kind === 'cleanup' ? (data as CleanupRunData) : undefined;
      if (cleanupData && data.state === undefined && cleanupNeedsGuard(cleanupData, deps.cleanupMaxShare ?? 1)) {
        const counted = await guardCleanupShare(deps.identity, cleanupData, { maxShare: deps.cleanupMaxShare ?? 1, pageSize, signal });
        log.info(counted, 'cleanup share checked');
      }
      if (state.step === 'fan-out') {
        const sink = childSink(job, kind, data, deps);
        const single = 'username' in data ? data.username : undefined;
        if (single) {
          await checkSingleUser(kind, single, deps, signal);
          const added = await sink.addNew([single]);
          await save({ ...state, step: 'wait-children', added: state.added + added });
        } else {
          await fanOut(await listingOf(data, deps, signal), state, sink, { pageSize, maxPasses, select: selector(kind, data), save, signal });
        }
        log.info({ children: state.added }, 'fan-out done');
        // Its state is saved past the fan-out, so a resumed run never reads the set again.
        await deps.redis.unlink(seenKeyOf(deps.prefix, data.runId));
      }
    } catch (error) {
      throw jobFailure(error);
    }

    if (state.step === 'wait-children') {
      if (token && (await job.moveToWaitingChildren(token))) throw new WaitingChildrenError();
      await save({ ...state, step: 'aggregate' });
    }

    const values = await childResults(job);
    const failures = await childFailures(job, deps.children);
    await job.updateProgress({ step: 'done', done: values.length + failures.length, total: values.length + failures.length });
    log.info({ succeeded: values.length, failed: failures.length }, 'fleet run finished');
    switch (kind) {
      case 'reset':
        return aggregateReset({ values: values as ResetUserResult[], failures }, (data as ResetRunData).mode, (data as ResetRunData).username);
      case 'cleanup':
        return aggregateCleanup({ values: values as CleanupUserResult[], failures }, (data as CleanupRunData).dryRun);
      case 'sync':
        return aggregateSync(
          { values: values as SyncUserResult[], failures },
          (username) => fleetChildJobId('sync', data.runId, username),
          (data as SyncRunData).username,
          (data as SyncRunData).dryRun === true,
        );
    }
  };
}
