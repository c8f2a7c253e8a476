export * from './step-context.js';
export * from './ownership.js';
export * from './provisioning.service.js';
export * from './delete-playground.js';
export * from './steps/create-run.js';
export * from './steps/grafana-account.js';
export { CREATE_PLAYGROUND, createPlayground, rollbackCreate } from './steps/create-playground.js';
export * from './steps/playground-run.js';
