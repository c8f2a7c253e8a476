export * from './contract.js';
export * from './rows.js';
export * from './membership.js';
export * from './enqueue-cohort.js';
export * from './queries.js';
export * from './view.js';
