// The core: config, errors, logging, metrics, tracing, the queue contracts, the domain, the
// ports and the provisioning runner. It loads no Kubernetes, Keycloak or Grafana client (those
// are in @kup/adapters), so the API imports it whole and keeps its memory low
// (apps/api/src/imports.test.ts checks what loading it pulls in).
export * from './errors.js';
export * from './config/env.js';
export * from './config/profiles-templates-env.js';
export * from './domain/quota-profiles.js';
export * from './domain/purge-counts.js';
export * from './domain/templates/template-files.js';
export * from './domain/templates/template-render.js';
export * from './domain/templates/template-check.js';
export * from './config/legacy-env.js';
export * from './config/redis-connection.js';
export * from './metrics/index.js';
export * from './crypto/sealer.js';
export * from './domain/username.js';
export * from './domain/email.js';
export * from './domain/identity.js';
export * from './domain/reserved-names.js';
export * from './logging/logger.js';
export * from './logging/redact.js';
export * from './logging/turn-batch.js';
export * from './queue/contract.js';
export * from './queue/fleet-contract.js';
export * from './store/secret-store.js';
export * from './fleet/enqueue-fleet-run.js';
export * from './tracing/index.js';
export * from './domain/password.js';
export * from './domain/trainee-plan.js';
export * from './ports/index.js';
export * from './store/redis-mutex.js';
export * from './store/user-lock.js';
export * from './store/left-grafana-accounts.js';
export * from './queue/enqueue-unique.js';
export * from './saga/index.js';
export * from './provisioning/index.js';
export * from './fleet/index.js';
export * from './queue/job-state.js';
export * from './queue/error-codes.js';
export * from './webhooks/index.js';
export * from './cohort/index.js';
export * from './queue/query-contract.js';
export * from './queue/trainee-contract.js';
export * from './queue/profile-contract.js';
export * from './queue/password-contract.js';
export * from './config/cluster-access.js';
export * from './trainees/index.js';
