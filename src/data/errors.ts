// Errors for bad input data: each names the file (or folder) and what is wrong with it.
// The command line maps DataError to exit status 2. Platform-free (see core.ts);
// reading files, and the errno reasons of failed reads, are in node/files.ts.
import { DataError } from '../errors.js';

export { DataError };

/** A byte count for messages: 47040016 → "44.9 MiB". */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} bytes`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v.toFixed(v < 10 ? 2 : 1)} ${units[u]}`;
}
