export * from './runner.js';
export * from './fittings.js';
