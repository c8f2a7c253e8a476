import { pino, type Logger, type LoggerOptions } from 'pino';

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
   * Write lines asynchronously: each line still leaves at once, but the write no longer
   * holds the event loop (under load, the synchronous write was most of what a line cost).
   * Flushed on exit; a process killed outright may lose the lines still in flight.
   */
  asyncWrites?: boolean;
}

/**
 * JSON lines on stdout (or on `destination`), always. Never pretty by TTY detection: pino-pretty
 * is a dev dependency, absent from the image, and `docker run -it` / `kubectl run -it` give the
 * process a terminal. Human-readable output is the dev script's job (`npm run local` formats
 * these lines with pino-pretty; elsewhere pipe through `npx pino-pretty`).
 */
export function createLogger({ asyncWrites = false, ...options }: LoggerSettings, destination?: pino.DestinationStream): Logger {
  const settings: LoggerOptions = { level: 'info', ...options, redact: { paths: REDACT_PATHS, censor: '[redacted]' } };
  if (destination !== undefined) return pino(settings, destination);
  return asyncWrites ? pino(settings, pino.destination({ dest: 1, sync: false })) : pino(settings);
}

export type { Logger };
