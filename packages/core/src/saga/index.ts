export * from './runner.js';
export * from './fittings.js';
export * from './attempt.js';
