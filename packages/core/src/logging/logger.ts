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
   * Lines gathered before one write to stdout (0: a write per line). Each write is a
   * system call; under load, batching them is most of what a log line costs. What is
   * buffered is flushed on exit, and lost only if the process is killed outright.
   */
  bufferBytes?: number;
}

/**
 * JSON lines on stdout (or on `destination`), always. Never pretty by TTY detection: pino-pretty
 * is a dev dependency, absent from the image, and `docker run -it` / `kubectl run -it` give the
 * process a terminal. Human-readable output is the dev script's job (`npm run local` formats
 * these lines with pino-pretty; elsewhere pipe through `npx pino-pretty`).
 */
export function createLogger({ bufferBytes = 0, ...options }: LoggerSettings, destination?: pino.DestinationStream): Logger {
  const settings: LoggerOptions = { level: 'info', ...options, redact: { paths: REDACT_PATHS, censor: '[redacted]' } };
  if (destination !== undefined) return pino(settings, destination);
  return bufferBytes > 0 ? pino(settings, pino.destination({ dest: 1, minLength: bufferBytes, sync: false })) : pino(settings);
}

export type { Logger };
