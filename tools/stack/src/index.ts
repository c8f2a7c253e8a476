export { addLease, ensureStack, formatEnv, readStackEnv, releaseLease, servers, stackStatus, stopStack } from './stack.js';
export type { EnsureStackOptions, EnsureStackResult, ServerStatus, StopStackOptions } from './stack.js';
export { keycloakNames, declaredAttributes } from './keycloak.js';
export { versions, stackDir, cacheDir } from './paths.js';
export { http } from './http.js';
export type { HttpOptions, HttpResponse } from './http.js';
