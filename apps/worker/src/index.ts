export { createWorkerApp, type WorkerApp, type WorkerAppDeps, type WorkerPorts } from './worker.js';
export { checkRegistry, dispatch, type ProcessorTable } from './job-registry.js';
export { jobFailure, reportFailures } from './processors/job-failure.js';
export { answerQueries, answerer, type QueryAnswerer, type QueryContext } from './queries/answer-queries.js';
export { createQueryWorker, type QueryWorker } from './queries/query-worker.js';
