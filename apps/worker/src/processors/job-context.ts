import type { Job } from 'bullmq';
import { jobFailure } from './job-failure.js';
import type { z } from 'zod';
import { generatePassword, parseJobData, ProvisionerError, secretKeyOf, type JobState, type Logger, type SecretStore, type StepContext } from '@kup/core';

/**
 * The job's input, checked against its schema, and its stored state (`data.state`, which
 * later attempts trust) against the state's schema: a job whose data does not fit (added
 * or edited by hand, e.g. through Bull Board) fails for good before it does anything, as
 * `INVALID_INPUT: …` or `INVALID_JOB_STATE: …`.
 */
export function checkedData<I extends z.ZodType>(job: Job, input: I, state: z.ZodType): z.infer<I> {
  const parsed = parseJobData(input, state, job.data);
  if (!parsed.ok) throw jobFailure(new ProvisionerError(parsed.code, parsed.message));
  return parsed.value;
}

/** The part of a job's data the worker owns: the domain operation's persisted state. */
export interface WithState<S extends object> {
  state?: S;
}

/**
 * A JobState backed by the job's own data (`job.updateData`), so what a job recorded
 * survives a crash of the worker and is read back by the next attempt. Shown in Bull
 * Board: it never holds a secret. Once `signal` is aborted (the attempt lost its lock) it
 * writes nothing: the state may be another run's now, and a write would undo its marks.
 */
export function jobState<S extends object>(job: Job, signal?: AbortSignal): JobState<S> {
  let current = { ...((job.data as WithState<S>).state ?? {}) } as S;
  return {
    get: () => current,
    patch: async (changes) => {
      signal?.throwIfAborted();
      current = { ...current, ...changes };
      await job.updateData({ ...job.data, state: current });
    },
    // Every patch writes the whole of `current`, so what is staged goes with the next one.
    stage: (changes) => {
      current = { ...current, ...changes };
    },
  };
}

/**
 * The StepContext of one attempt of a job: progress on the job, state in the job's data,
 * and the job's password, generated and stored sealed on first use only, then read back
 * by every later attempt. `signal` is the attempt's (runJob's `AttemptSignal`): once it is
 * aborted no step starts (progress is reported before each) and no state is written.
 */
export function stepContext<S extends object>(job: Job, secrets: SecretStore, log: Logger, signal: AbortSignal | undefined): StepContext<S> {
  const jobKey = secretKeyOf(job);
  let password: Promise<string> | undefined;
  return {
    jobKey,
    password: () => (password ??= secrets.putIfAbsent(jobKey, generatePassword())),
    state: jobState<S>(job, signal),
    progress: async (step, done, total) => {
      signal?.throwIfAborted();
      log.debug({ step, done, total }, 'step');
      await job.updateProgress({ step, done, total });
    },
    signal,
    log,
  };
}
