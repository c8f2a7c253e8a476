import { pino, type Logger, type LoggerOptions } from 'pino';
import { CENSOR, censorSecrets, SECRET_KEYS } from './redact.js';
import { turnBatchedDestination } from './turn-batch.js';

/**
 * Secrets never reach a log line: `censorSecrets` replaces the value of every secret key down
 * to three levels of each line's object and of each child logger's bindings; pino's own redact
 * paths (top-level keys and the request headers, no wildcards) also cover objects that pino
 * formats into the message (`%o`). Tests assert that no generated password or token reaches a
 * log line.
 */
export const REDACT_PATHS = [...SECRET_KEYS, 'req.headers.authorization', 'req.headers.cookie', 'headers.authorization', 'headers.cookie'];

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
  const { formatters, ...rest } = options;
  const settings: LoggerOptions = {
    level: 'info',
    ...rest,
    formatters: {
      ...formatters,
      log: (object) => censorSecrets(formatters?.log ? formatters.log(object) : object),
      bindings: (bindings) => censorSecrets(formatters?.bindings ? formatters.bindings(bindings) : bindings),
    },
    redact: { paths: REDACT_PATHS, censor: CENSOR },
  };
  const logger = destination !== undefined ? pino(settings, destination) : batchPerTurn ? pino(settings, turnBatchedDestination()) : pino(settings);
  return censoringChildBindings(logger);
}

/**
 * pino applies `formatters.bindings` to the root's bindings only, not to a child's; children
 * are made from their parent by prototype, so this one override covers every descendant.
 */
function censoringChildBindings(logger: Logger): Logger {
  const child = logger.child;
  logger.child = function censoredChild(this: Logger, bindings, options) {
    return child.call(this, censorSecrets(bindings), options);
  } as Logger['child'];
  return logger;
}

export type { Logger };
