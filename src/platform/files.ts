// The one way the library reaches files and path strings: through the installed platform
// (platform.ts). `hostFiles(caller)` gives the host's file system, or, in a page, which has
// none, throws an InputError naming `caller` (the library function that needs files) and
// what a page uses instead. The path helpers below are the host's (node:path in Node).
import { InputError } from '../errors.js';
import { platform, type HostFiles } from './platform.js';

export type { HostFiles, FileStat, FolderEntry } from './platform.js';

/** A library function that needs a file system in a page: the message says what to use there. */
export class NoFileSystemError extends InputError {
  constructor(readonly caller: string, hint: string) {
    super(`focusnet: ${caller} needs Node's file system, which a web page does not have.${hint ? ` In a page, ${hint}` : ''}`);
    this.name = 'NoFileSystemError';
  }
}

/** The host's file system for `caller` (e.g. 'io.saveSafetensors'); a NoFileSystemError in a page. */
export function hostFiles(caller: string): HostFiles {
  const p = platform();
  if (!p.files) throw new NoFileSystemError(caller, p.noFilesHint(caller));
  return p.files;
}

export const join = (...parts: string[]): string => platform().paths.join(...parts);
export const dirname = (path: string): string => platform().paths.dirname(path);
export const basename = (path: string, suffix?: string): string => platform().paths.basename(path, suffix);
export const resolve = (...parts: string[]): string => platform().paths.resolve(...parts);
export const relative = (from: string, to: string): string => platform().paths.relative(from, to);
