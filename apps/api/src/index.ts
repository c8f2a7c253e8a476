export { buildApp, type ApiConfig } from './app.js';
export { createApiDeps, type ApiDeps } from './deps.js';
export { TokenVerifier, tokenFromAuthorization } from './auth/token-verifier.js';
export { parsePreferWait } from './jobs/prefer-wait.js';
export { jobView, type JobView } from './jobs/job-view.js';
