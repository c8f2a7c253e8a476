import { closeSync, openSync, unlinkSync } from 'node:fs';
import { UsageError } from './io.js';

/**
 * A file for something the API hands out once (a class's credentials, a new password): made
 * before the request, so a file that cannot be written loses nothing.
 */
export interface NewFile {
  path: string;
  fd: number;
  written: boolean;
}

/** A file that must not exist yet, mode 0600; refused (before any request) when it exists or cannot be made. */
export function openNewFile(path: string): NewFile {
  try {
    return { path, fd: openSync(path, 'wx', 0o600), written: false };
  } catch (error) {
    throw new UsageError(`cannot create ${path} (it must not exist yet): ${error instanceof Error ? error.message : String(error)}`);
  }
}

/** Closed; removed again when nothing was written to it (the API refused), so a retry can use it. */
export function closeNewFile(file: NewFile): void {
  closeSync(file.fd);
  if (!file.written) unlinkSync(file.path);
}
