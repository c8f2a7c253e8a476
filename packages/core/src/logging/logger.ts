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

export function createLogger(options: LoggerOptions & { name: string }, destination?: pino.DestinationStream): Logger {
  const pretty = process.stdout.isTTY && destination === undefined;
  return pino(
    {
      level: 'info',
      ...options,
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      ...(pretty ? { transport: { target: 'pino-pretty', options: { colorize: true } } } : {}),
    },
    ...(destination === undefined || pretty ? [] : [destination]),
  );
}

export type { Logger };
