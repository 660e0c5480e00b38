// Errors for bad input data: each names the file (or folder) and what is wrong with it.
// The command line maps DataError to exit status 2.
import { readFileSync } from 'node:fs';
import { DataError } from '../errors.js';

export { DataError };

/** Why a file-system call failed: the errno code (ENOENT, EACCES, ...), else the message. */
export function ioReason(e: unknown): string {
  return (e as NodeJS.ErrnoException).code ?? (e as Error).message;
}

/** Read a whole file; failing to is a DataError naming the file ("cannot read <what> (ENOENT)"). */
export function readDataFile(path: string, what = ''): Buffer {
  try {
    return readFileSync(path);
  } catch (e) {
    throw new DataError(path, `cannot read ${what ? what + ' ' : ''}(${ioReason(e)})`);
  }
}
