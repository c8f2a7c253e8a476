import type { CreateJobData, CreateJobResult } from '../../queue/contract.js';
import { markOwned, runSteps, undoSteps, type Step } from '../../saga/runner.js';
import { defaultGuards } from '../ownership.js';
import type { CreateState, StepContext } from '../step-context.js';
import { need, type CreateRun, type ProvisioningDeps } from './create-run.js';
import type { LeftGrafanaAccount } from './grafana-account.js';
import { inspectStep, keycloakUserStep } from './identity-steps.js';
import { createNamespaceStep, finishStep, grafanaUserStep } from './playground-steps.js';
import { fittingSteps } from './playground-run.js';

/** A create, step by step; progress reports use these names. */
export const CREATE_PLAYGROUND: readonly Step<CreateRun>[] = [
  inspectStep,
  keycloakUserStep,
  createNamespaceStep,
  ...fittingSteps,
  grafanaUserStep,
  finishStep,
];

function createRun(deps: ProvisioningDeps, input: CreateJobData, ctx: StepContext<CreateState>): CreateRun {
  const run: CreateRun = {
    deps: { ...deps, guards: deps.guards ?? defaultGuards(), now: deps.now ?? (() => new Date()) },
    input,
    ctx,
    username: input.username,
    // Set by keycloak-user, from the job's own dates: the namespace found does not change it.
    traineeFor: () => need(run.trainee, 'trainee'),
    makingNamespace: () => markOwned(ctx.state, 'namespace'),
  };
  return run;
}

/**
 * Creates a trainee's playground. Every step is safe to run again after a crash at any
 * point: what existed before the job and what the job made itself are recorded in the
 * job's state, the password comes from the job's sealed store, and `provisioned=true` is
 * written last.
 */
export async function createPlayground(deps: ProvisioningDeps, input: CreateJobData, ctx: StepContext<CreateState>): Promise<CreateJobResult> {
  const run = createRun(deps, input, ctx);
  await runSteps(CREATE_PLAYGROUND, run, ctx.progress);
  return need(run.result, 'result');
}

/**
 * Undoes a create that finally failed: each step removes only what the job's state says
 * this job made, "not found" counting as done. A user that was fully provisioned before the
 * job, or a half-made one this job did not make, is left for sync to handle. Throws the
 * first error after trying every part.
 */
export async function rollbackCreate(
  deps: ProvisioningDeps,
  input: CreateJobData,
  ctx: StepContext<CreateState>,
): Promise<{ keycloak: boolean; namespace: boolean; grafana: boolean }> {
  const state = ctx.state.get();
  if (state.initial === 'provisioned') return { keycloak: false, namespace: false, grafana: false };
  // Kept by username before anything is undone (an undo that cannot reach Grafana leaves the
  // account, which nothing else may record): a new POST replaces this job and its state.
  const left = leftAccountOf(state);
  if (left) await deps.leftAccounts?.put(input.username, left);
  let undone: Record<string, boolean> = {};
  try {
    undone = await undoSteps(CREATE_PLAYGROUND, createRun(deps, input, ctx));
  } finally {
    ctx.log.info({ undone }, 'create rolled back');
  }
  // Every undo done: the account is gone (or was never ours), and so is the need for its record.
  if (left) await deps.leftAccounts?.clear(input.username);
  return { keycloak: undone['keycloak-user'] === true, namespace: undone.namespace === true, grafana: undone['grafana-user'] === true };
}

/** The account a job marked as its own, for the Keycloak user it recorded (`failedCreateRecord`'s rule). */
function leftAccountOf(state: CreateState): LeftGrafanaAccount | undefined {
  if (state.owned?.grafana !== true || state.userId === undefined) return undefined;
  return { userId: state.userId, ...(state.grafanaUserId !== undefined ? { grafanaUserId: state.grafanaUserId } : {}) };
}
