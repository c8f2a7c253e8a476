export * from './registry.js';
export * from './upstream.js';
export * from './jobs.js';
export * from './http.js';
