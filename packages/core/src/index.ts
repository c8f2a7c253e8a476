// Everything: the API's contract entry plus the domain, ports and adapters (worker, CLI).
export * from './contract.js';
export * from './domain/password.js';
export * from './domain/trainee-plan.js';
export * from './ports/index.js';
export * from './store/user-lock.js';
export * from './provisioning/index.js';
export * from './fleet/index.js';
export * from './adapters/index.js';
export * from './queue/job-state.js';
