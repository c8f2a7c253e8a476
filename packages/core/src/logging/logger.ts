import { pino, type Logger, type LoggerOptions } from 'pino';
import { turnBatchedDestination } from './turn-batch.js';

/**
 * Paths that may hold secrets anywhere in a log object. pino replaces their values;
 * tests assert that no generated password or token reaches a log line.
 */
export const REDACT_PATHS = [
  'password',
  '*.password',
  '*.*.password',
  'secret',
  '*.secret',
  'token',
  '*.token',
  'clientSecret',
  '*.clientSecret',
  'credentials',
  '*.credentials',
  'authorization',
  '*.authorization',
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
  'RESULT_ENCRYPTION_KEY',
  'API_TOKENS',
  'KEYCLOAK_CLIENT_SECRET',
  'GRAFANA_ADMIN_PASSWORD',
];

export interface LoggerSettings extends LoggerOptions {
  name: string;
  /**
   * Gather the lines of one event-loop turn into one synchronous write (turn-batch.ts):
   * each line still leaves at the end of the turn it was logged in. For a process that logs
   * a line per request under load (the API's access log).
   */
  batchPerTurn?: boolean;
}

/**
 * JSON lines on stdout (or on `destination`), always. Never pretty by TTY detection: pino-pretty
 * is a dev dependency, absent from the image, and `docker run -it` / `kubectl run -it` give the
 * process a terminal. Human-readable output is the dev script's job (`npm run local` formats
 * these lines with pino-pretty; elsewhere pipe through `npx pino-pretty`).
 */
export function createLogger({ batchPerTurn = false, ...options }: LoggerSettings, destination?: pino.DestinationStream): Logger {
  const settings: LoggerOptions = { level: 'info', ...options, redact: { paths: REDACT_PATHS, censor: '[redacted]' } };
  if (destination !== undefined) return pino(settings, destination);
  return batchPerTurn ? pino(settings, turnBatchedDestination()) : pino(settings);
}

export type { Logger };
