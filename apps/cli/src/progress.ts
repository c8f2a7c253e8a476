import type { JobView } from './api-client.js';
import { paint, type CliIo } from './io.js';

export function progressLine(view: JobView): string {
  const { step, done, total } = view.progress;
  return `${view.type} ${view.id}: ${view.state}, ${step}${total > 0 ? ` ${done}/${total}` : ''}`;
}

const BAR_WIDTH = 24;

/** `[#########---------------]  9/24`: how far a job with counted steps is. */
export function bar(done: number, total: number, width = BAR_WIDTH): string {
  const filled = total > 0 ? Math.min(width, Math.round((done / total) * width)) : 0;
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}]`;
}

export interface Progress {
  /** Shows a job's state; called on every poll. */
  update(view: JobView): void;
  /** Ends the display (the bar's line is closed). */
  end(): void;
}

/**
 * Progress on stderr: a bar redrawn in place on a terminal; elsewhere (a pipe, a CI log)
 * one plain line per change, as scripts and logs want.
 */
export function progress(io: CliIo, indent = ''): Progress {
  const terminal = io.terminal;
  let last = '';
  let drawn = false;
  if (!terminal) {
    return {
      update(view) {
        const line = progressLine(view);
        if (line !== last) io.err(`${indent}${line}`);
        last = line;
      },
      end() {},
    };
  }
  return {
    update(view) {
      const { step, done, total } = view.progress;
      const counts = total > 0 ? ` ${bar(done, total)} ${done}/${total}` : '';
      // One line, redrawn: back to its start, clear it, and keep it within the terminal's
      // width (the text is cut, never the bar; colour goes on after the cut).
      const text = `${indent}${view.type} ${view.id}: ${view.state}, ${step}`.slice(0, Math.max(10, terminal.columns - 1 - counts.length));
      const coloured = total > 0 ? ` ${paint(io, 'cyan', bar(done, total))} ${done}/${total}` : '';
      terminal.write(`\r\u001b[2K${text}${coloured}`);
      drawn = true;
    },
    end() {
      if (drawn) terminal.write('\n');
      drawn = false;
    },
  };
}
