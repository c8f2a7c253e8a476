import type { Logger } from '../logging/logger.js';

/**
 * A small record a job keeps between its attempts. The worker backs it with BullMQ's
 * `job.updateData`, so it survives a crash of the process; it is shown in Bull Board and
 * so never holds a secret.
 */
export interface JobState<S extends object> {
  get(): Readonly<S>;
  /** Shallow merge, persisted before it resolves (with whatever was staged before it). */
  patch(changes: Partial<S>): Promise<void>;
  /**
   * Shallow merge, written with the next `patch`: a crash before then loses it. Only for
   * records a later attempt can rebuild (what the job made it finds again by its marks).
   */
  stage(changes: Partial<S>): void;
}

/** What a create records: what existed before it, and what it made itself. */
export interface CreateState {
  /** Decided on the first attempt only; later attempts read it back. */
  initial?: 'absent' | 'partial' | 'provisioned';
  /** Marked BEFORE the thing is created, so a crash right after never orphans it. */
  owned?: { keycloak?: boolean; namespace?: boolean; grafana?: boolean };
  /**
   * When this job last asked Keycloak to create the user (its clock, ms). A later attempt
   * that finds the user without having recorded its id compares Keycloak's creation time
   * with it, to tell its own user (the answer was lost) from one that was there before.
   */
  creatingAt?: number;
  userId?: string;
  grafanaUserId?: number;
  /** Fixed on the first attempt so that retries write the same annotations. */
  createdAt?: string;
  expiresAt?: string;
}

/** What a delete records: the target it chose and what it removed so far. */
export interface DeleteState {
  /** `grafanaUserId`: the Grafana account found to be ours at inspect (null: none is). */
  target?: { username: string; userId: string | null; grafanaUserId?: number | null };
  removed?: { namespace?: boolean; keycloak?: boolean; grafana?: boolean };
}

/** Whether an earlier attempt of a delete already removed something: its retry then finishes it, deciding nothing again. */
export const deleteBegun = (state: Pick<DeleteState, 'removed'>): boolean => Object.values(state.removed ?? {}).some(Boolean);

export type StepLog = Pick<Logger, 'info' | 'warn' | 'debug'>;

/** Everything a domain operation needs from the job that runs it. */
export interface StepContext<S extends object> {
  /** Stable across retries of one job (its id and creation time). */
  jobKey: string;
  /** The job's password, stored sealed before its first use: the same on every attempt. */
  password: () => Promise<string>;
  state: JobState<S>;
  progress: (step: string, done: number, total: number) => Promise<void>;
  signal?: AbortSignal | undefined;
  log: StepLog;
}

/** A JobState held in memory: for tests, and for callers that run an operation inline. */
export function memoryJobState<S extends object>(initial: S = {} as S): JobState<S> & { value: S } {
  const holder = {
    value: structuredClone(initial),
    get: () => holder.value,
    patch: async (changes: Partial<S>) => {
      holder.value = { ...holder.value, ...structuredClone(changes) };
    },
    // Held with the rest: memory has no crash to lose it in.
    stage: (changes: Partial<S>) => {
      holder.value = { ...holder.value, ...structuredClone(changes) };
    },
  };
  return holder;
}
