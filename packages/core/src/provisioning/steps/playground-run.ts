import { namespaceManifest, staleObjects, type PlaygroundSettings, type Trainee } from '../../domain/trainee-plan.js';
import type { ClusterGateway, NamespaceInfo } from '../../ports/cluster-gateway.js';
import { ensureFitting, FITTING_GROUPS, fittingsOf, type Fitting, type FittingGroup } from '../../saga/fittings.js';
import type { RunFlags, Step } from '../../saga/runner.js';
import { assertNamespaceFree, isManagedNamespace, NamespaceConflictError, type IdentityGuards } from '../ownership.js';
import type { StepLog } from '../step-context.js';

/**
 * What the namespace and fitting steps need from any operation that runs them (create,
 * sync, reset): the cluster, the plan's settings, the trainee, and how the operation
 * records that it is making the namespace.
 */
export interface PlaygroundRun extends RunFlags {
  deps: { cluster: ClusterGateway; settings: PlaygroundSettings; namespaceDeleteTimeoutMs: number; guards: IdentityGuards };
  ctx: { signal?: AbortSignal | undefined; log: StepLog };
  username: string;
  trainee?: Trainee;
  fittings?: Fitting[];
  /** The trainee as the manifests want it, given the namespace as found (undefined: none, or gone). */
  traineeFor(namespace: NamespaceInfo | undefined): Trainee | Promise<Trainee>;
  /** Records, BEFORE the namespace is made, that this run is making it (its ownership mark). */
  makingNamespace(): Promise<void>;
}

/**
 * The namespace: refused when the provisioner does not manage it, made again only under a
 * name that is still free, made afresh once a terminating one (left by a reset or a
 * delete) is gone; applied either way (server-side apply puts its labels right).
 */
export const namespaceStep: Step<PlaygroundRun> = {
  name: 'namespace',
  async ensure(run) {
    const { deps, ctx, username } = run;
    let namespace = await deps.cluster.getNamespace(username, ctx.signal);
    if (namespace && !isManagedNamespace(namespace)) throw new NamespaceConflictError(username);
    if (!namespace) assertNamespaceFree(username, deps.guards);
    if (namespace?.phase === 'Terminating') {
      ctx.log.info({ namespace: username }, 'namespace is terminating: waiting for it to go');
      await deps.cluster.waitForNamespaceGone(username, deps.namespaceDeleteTimeoutMs, ctx.signal);
      namespace = undefined;
    }
    if (!namespace) await run.makingNamespace();
    run.trainee ??= await run.traineeFor(namespace);
    // Removals first: the namespace's annotation records the template objects applied, and
    // writing it forgets the dropped ones; deleted before, a crash in between loses nothing.
    if (namespace) for (const ref of staleObjects(deps.settings, username, run.trainee)) await deps.cluster.delete(ref, ctx.signal);
    await deps.cluster.apply(namespaceManifest(deps.settings, run.trainee), ctx.signal);
  },
};

/** One group of the plan's fittings (saga/fittings.ts); they go with the namespace, so no undo of their own. */
export function fittingStep(group: FittingGroup): Step<PlaygroundRun> {
  return {
    name: group,
    async ensure(run) {
      run.trainee ??= await run.traineeFor(undefined);
      run.fittings ??= fittingsOf(run.deps.settings, run.trainee);
      const fitting = run.fittings.find((f) => f.group === group);
      if (fitting) await ensureFitting(run.deps.cluster, fitting, run.ctx.signal);
    },
  };
}

/** Every fitting group of the plan, in order. */
export const fittingSteps: readonly Step<PlaygroundRun>[] = FITTING_GROUPS.map(({ name }) => fittingStep(name));

/** The namespace and everything in it: what sync and reset apply, and the middle of a create. */
export const PLAYGROUND_STEPS: readonly Step<PlaygroundRun>[] = [namespaceStep, ...fittingSteps];
