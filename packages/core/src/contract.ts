/**
 * What the API shares with the worker, without the adapters: config, errors, logging, usernames,
 * metrics, the queue contracts and the secret store. The API imports this entry, not the
 * package root, so it never loads the Kubernetes and Keycloak clients (about 120 MB of
 * resident memory it would never use).
 */
export * from './errors.js';
export * from './config/env.js';
export * from './config/legacy-env.js';
export * from './config/redis-connection.js';
export * from './metrics/index.js';
export * from './crypto/sealer.js';
export * from './domain/username.js';
export * from './domain/email.js';
export * from './domain/identity.js';
export * from './domain/reserved-names.js';
export * from './logging/logger.js';
export * from './queue/contract.js';
export * from './queue/fleet-contract.js';
export * from './store/secret-store.js';
export * from './fleet/enqueue-fleet-run.js';
export * from './tracing/index.js';
