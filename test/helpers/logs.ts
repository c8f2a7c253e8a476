// Log lines of an in-process API or worker, kept so tests can read them (and search them
// for secrets); `save` keeps them as a test artifact.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';

export const ARTIFACTS = join(process.cwd(), 'test-artifacts', 'reliability');

/** Collects every log line written to it, one entry per line. */
export class LogCapture extends Writable {
  readonly lines: string[] = [];
  #partial = '';

  override _write(chunk: Buffer | string, _encoding: BufferEncoding, done: () => void): void {
    const text = this.#partial + chunk.toString();
    const parts = text.split('\n');
    this.#partial = parts.pop() ?? '';
    this.lines.push(...parts.filter(Boolean));
    done();
  }

  text(): string {
    return this.lines.join('\n') + (this.#partial ? `\n${this.#partial}` : '');
  }

  save(name: string): string {
    mkdirSync(ARTIFACTS, { recursive: true });
    const file = join(ARTIFACTS, `${name}.log`);
    writeFileSync(file, this.text());
    return file;
  }
}
