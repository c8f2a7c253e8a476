export { run, USAGE } from './cli.js';
export { ApiClient, ApiError, type JobView } from './api-client.js';
export { EXIT, type CliIo } from './io.js';
