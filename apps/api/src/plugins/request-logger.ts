import type { FastifyBaseLogger } from 'fastify';

type Bindings = Parameters<FastifyBaseLogger['child']>[0];
type ChildLoggerOptions = NonNullable<Parameters<FastifyBaseLogger['child']>[1]>;

type Log = (...args: unknown[]) => void;

/**
 * A request's logger that becomes pino's child (bound to the request id) when first used.
 * Fastify makes a child logger for every request; most requests log nothing through it
 * (their access line is written by the root logger, with the request id as a field, which
 * gives the same line), so making one each was work and garbage for nothing under load
 * (docs/benchmarks.md, P1). A handler, hook or Fastify itself that logs gets the real child.
 */
class LazyRequestLogger {
  #child: FastifyBaseLogger | undefined;

  constructor(
    private readonly parent: FastifyBaseLogger,
    private readonly bindings: Bindings,
    private readonly options: ChildLoggerOptions,
  ) {}

  private get real(): FastifyBaseLogger {
    this.#child ??= this.parent.child(this.bindings, this.options);
    return this.#child;
  }

  get level(): string {
    return this.real.level;
  }

  set level(level: string) {
    this.real.level = level;
  }

  fatal(...args: unknown[]): void {
    (this.real.fatal as Log)(...args);
  }

  error(...args: unknown[]): void {
    (this.real.error as Log)(...args);
  }

  warn(...args: unknown[]): void {
    (this.real.warn as Log)(...args);
  }

  info(...args: unknown[]): void {
    (this.real.info as Log)(...args);
  }

  debug(...args: unknown[]): void {
    (this.real.debug as Log)(...args);
  }

  trace(...args: unknown[]): void {
    (this.real.trace as Log)(...args);
  }

  silent(): void {}

  child(bindings: Bindings, options?: ChildLoggerOptions): FastifyBaseLogger {
    return this.real.child(bindings, options);
  }
}

/** Fastify's `childLoggerFactory`: each request's logger, made lazily. */
export const lazyRequestLogger = (logger: FastifyBaseLogger, bindings: Bindings, options: ChildLoggerOptions): FastifyBaseLogger =>
  new LazyRequestLogger(logger, bindings, options) as unknown as FastifyBaseLogger;
