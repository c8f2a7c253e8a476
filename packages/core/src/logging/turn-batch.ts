import { pino } from 'pino';

/** Where the gathered lines go: a synchronous writer (pino's SonicBoom on stdout by default). */
export interface LineSink {
  write(text: string): unknown;
}

export interface TurnBatchedDestination {
  write(line: string): void;
  /** Writes what is gathered now (pino's logger.flush, and the process's exit). */
  flush(callback?: (error?: Error) => void): void;
  flushSync(): void;
}

/**
 * A pino destination that gathers the lines logged during one turn of the event loop and
 * writes them in one synchronous system call at the end of it (setImmediate). A quiet
 * process's line still leaves at once; under load, many requests' access lines share one
 * write. Memory is bounded by one turn's lines: a slow reader of stdout slows the process
 * (the write blocks) instead of growing an in-memory backlog, as an asynchronous writer
 * does (docs/benchmarks.md, P1 and P4b). What is gathered is written on exit too.
 */
export function turnBatchedDestination(sink: LineSink = pino.destination({ dest: 1, sync: true })): TurnBatchedDestination {
  let lines: string[] = [];
  let scheduled = false;
  const flushSync = () => {
    scheduled = false;
    if (lines.length === 0) return;
    const text = lines.length === 1 ? (lines[0] as string) : lines.join('');
    lines = [];
    sink.write(text);
  };
  process.once('exit', flushSync);
  return {
    write(line: string) {
      lines.push(line);
      if (scheduled) return;
      scheduled = true;
      setImmediate(flushSync);
    },
    flush(callback) {
      try {
        flushSync();
        callback?.();
      } catch (error) {
        callback?.(error as Error);
      }
    },
    flushSync,
  };
}
