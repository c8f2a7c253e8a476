import type { CreateJobData, CreateJobResult, DeleteJobData, DeleteJobResult } from '../queue/contract.js';
import { deletePlayground } from './delete-playground.js';
import { defaultGuards } from './ownership.js';
import type { CreateState, DeleteState, StepContext } from './step-context.js';
import { CREATE_PLAYGROUND, createPlayground, rollbackCreate } from './steps/create-playground.js';
import type { ProvisioningDeps } from './steps/create-run.js';

export type { ProvisioningDeps } from './steps/create-run.js';

/** The steps of a create, in order; progress reports use these names (the CLI shows them). */
export const CREATE_STEPS = CREATE_PLAYGROUND.map((step) => step.name) as readonly string[];
export type CreateStep = (typeof CREATE_STEPS)[number];

/** Creates and deletes a trainee's playground across Keycloak, Kubernetes and Grafana: the steps, run by the saga runner. */
export class ProvisioningService {
  readonly #deps: ProvisioningDeps;

  constructor(deps: ProvisioningDeps) {
    this.#deps = deps;
  }

  create(input: CreateJobData, ctx: StepContext<CreateState>): Promise<CreateJobResult> {
    return createPlayground(this.#deps, input, ctx);
  }

  rollbackCreate(input: CreateJobData, ctx: StepContext<CreateState>): Promise<{ keycloak: boolean; namespace: boolean; grafana: boolean }> {
    return rollbackCreate(this.#deps, input, ctx);
  }

  delete(input: DeleteJobData, ctx: StepContext<DeleteState>): Promise<DeleteJobResult> {
    return deletePlayground({ ...this.#deps, guards: this.#deps.guards ?? defaultGuards() }, input, ctx);
  }
}
