// Everything: the API's contract entry plus the domain and ports (worker, CLI). The adapters
// that implement the ports live in @kup/adapters.
export * from './contract.js';
export * from './domain/password.js';
export * from './domain/trainee-plan.js';
export * from './ports/index.js';
export * from './store/user-lock.js';
export * from './provisioning/index.js';
export * from './fleet/index.js';
export * from './queue/job-state.js';
