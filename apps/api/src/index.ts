export { buildApp, type ApiConfig } from './app.js';
export { createApiDeps, type ApiDeps } from './deps.js';
export { TokenVerifier, tokenFromAuthorization } from './auth/token-verifier.js';
export { parsePreferWait } from './jobs/prefer-wait.js';
export { jobView, type JobView } from './jobs/job-view.js';
export { WorkerQueries, WorkerUnavailableError, type WorkerQueriesDeps } from './queries/worker-queries.js';
export { JobWaiter } from './jobs/job-waiter.js';
export { RedisGuard } from './jobs/redis-guard.js';
