export * from './step-context.js';
export * from './ownership.js';
export * from './provisioning.service.js';
export * from './delete-playground.js';
