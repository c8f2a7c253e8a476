/** Where the CLI reads and writes: the process by default, buffers in tests. */
export interface CliIo {
  out(text: string): void;
  err(text: string): void;
  env: NodeJS.ProcessEnv;
  /** Whether stdout is a terminal: tables then, tab-separated lines otherwise. */
  outIsTerminal?: boolean;
  /** Whether stdin is a terminal (confirmation prompts only then). */
  interactive: boolean;
  /** Asks a yes/no question on the terminal. */
  confirm(question: string): Promise<boolean>;
  /**
   * Stderr as a terminal, when it is one: progress is then one bar redrawn in place
   * (`write` without a newline); otherwise progress is plain lines through `err`.
   */
  terminal?: { write(text: string): void; columns: number };
}

/** Exit codes; `timedOut`: `--wait` gave up while the job still runs (it goes on: `status <jobId> --wait`). */
export const EXIT = { ok: 0, failed: 1, usage: 2, timedOut: 3 } as const;

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** Colours only on a terminal, and never when NO_COLOR is set to anything (no-color.org). */
export function useColor(io: CliIo): boolean {
  return io.terminal !== undefined && !io.env.NO_COLOR;
}

const CODES = { red: [31, 39], green: [32, 39], cyan: [36, 39], yellow: [33, 39], dim: [2, 22] } as const;

export function paint(io: CliIo, color: keyof typeof CODES, text: string): string {
  if (!useColor(io)) return text;
  const [open, close] = CODES[color];
  return `\u001b[${open}m${text}\u001b[${close}m`;
}
