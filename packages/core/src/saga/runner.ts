import type { JobState } from '../provisioning/step-context.js';

/**
 * One part of a playground (the Keycloak identity, the namespace, a group of fittings, the
 * Grafana account, the `provisioned` mark). `ensure` brings the part to what the plan wants
 * and is safe to run again after a crash at any point; `undo` removes what THIS run made of
 * it (nothing it did not mark owned before making) and says whether it removed something.
 */
export interface Step<R> {
  readonly name: string;
  ensure(run: R): Promise<void>;
  undo?(run: R): Promise<boolean>;
}

/** What every run carries: a step that finds the operation complete (e.g. already provisioned) sets `stopped`; later steps do not run. */
export interface RunFlags {
  stopped?: boolean;
}

export type Progress = (step: string, done: number, total: number) => Promise<void>;

/** Runs the steps in order, reporting each one's name before it starts. */
export async function runSteps<R extends RunFlags>(steps: readonly Step<R>[], run: R, progress: Progress): Promise<'done' | 'stopped'> {
  for (const [index, step] of steps.entries()) {
    await progress(step.name, index, steps.length);
    await step.ensure(run);
    if (run.stopped) return 'stopped';
  }
  return 'done';
}

/**
 * Undoes the steps in reverse order. Every step is tried, even after one fails, so one
 * unreachable system does not keep the others' parts; the first error is thrown at the end.
 * Returns, by step name, whether the step removed something.
 */
export async function undoSteps<R>(steps: readonly Step<R>[], run: R): Promise<Record<string, boolean>> {
  const removed: Record<string, boolean> = {};
  const errors: unknown[] = [];
  for (const step of [...steps].reverse()) {
    if (!step.undo) continue;
    try {
      removed[step.name] = await step.undo(run);
    } catch (error) {
      removed[step.name] = false;
      errors.push(error);
    }
  }
  if (errors.length > 0) throw errors[0];
  return removed;
}

/** What a run records it made: marked BEFORE making, so a crash right after never orphans the thing. */
export type Owned<P extends string> = Partial<Record<P, boolean>>;

/** Records in the run's state whether this run made `part` (or is about to). */
export async function markOwned<P extends string, S extends { owned?: Owned<P> }>(state: JobState<S>, part: P, owned = true): Promise<void> {
  await state.patch({ owned: { ...state.get().owned, [part]: owned } } as Partial<S>);
}

/** Whether this run marked `part` as its own. */
export function owns<P extends string>(state: { owned?: Owned<P> }, part: P): boolean {
  return state.owned?.[part] === true;
}
