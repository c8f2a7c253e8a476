export * from '../config/webhooks.js';
export * from './contract.js';
export * from './signature.js';
export * from './emitter.js';
export * from './expiring-scan.js';
export * from '../metrics/webhooks.js';
