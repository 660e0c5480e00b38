// File access of the data layer (everything under src/data/node/ reads files, through the
// platform seam, src/platform/files.ts: Node's file system, none in a page; the rest of
// src/data works on bytes, see ../core.ts). Every failure is a DataError naming the path:
// reading a whole file, listing a folder, asking what a path is. A path that is not a regular
// file (a FIFO, a device, a folder) is refused before it is opened, so reading never blocks.
import { hostFiles, type FileStat } from '../../platform/files.js';
import { DataError } from '../errors.js';

/** Why a file-system call failed: the errno code (ENOENT, EACCES, ...), else the message. */
export function ioReason(e: unknown): string {
  return (e as { code?: string }).code ?? (e as Error).message;
}

/** stat() following links, or null when the path (or a link's target) does not exist. */
export function statOrNull(path: string): FileStat | null {
  const fs = hostFiles('data.statOrNull');
  try {
    return fs.stat(path);
  } catch (e) {
    if ((e as { code?: string }).code === 'ENOENT' || (e as { code?: string }).code === 'ENOTDIR') return null;
    throw new DataError(path, `cannot read (${ioReason(e)})`);
  }
}

/** Whether something is at path: a file, a folder, or a symbolic link (broken or not). */
export function entryExists(path: string): boolean {
  const fs = hostFiles('data.entryExists');
  try {
    fs.lstat(path);
    return true;
  } catch {
    return false;
  }
}

/** Whether path is a folder (following links); false when it does not exist. */
export function isFolder(path: string): boolean {
  return statOrNull(path)?.isDirectory() ?? false;
}

/** Whether path is a regular file (following links); false when it does not exist. */
export function isFile(path: string): boolean {
  return statOrNull(path)?.isFile() ?? false;
}

/** Read a whole file; failing to is a DataError naming the file ("cannot read <what> (ENOENT)"). */
export function readDataFile(path: string, what = ''): Uint8Array {
  const label = what ? what + ' ' : '';
  const fs = hostFiles('data.readDataFile');
  let st: FileStat;
  try {
    st = fs.stat(path);
  } catch (e) {
    const code = (e as { code?: string }).code;
    throw new DataError(path, code === 'ENOENT' ? `cannot read ${label}(ENOENT: missing, or a broken symbolic link)` : `cannot read ${label}(${ioReason(e)})`);
  }
  if (!st.isFile()) throw new DataError(path, `cannot read ${label}(${st.isDirectory() ? 'a folder' : 'not a regular file'})`);
  try {
    return fs.readBytes(path);
  } catch (e) {
    throw new DataError(path, `cannot read ${label}(${ioReason(e)})`);
  }
}

/** The names in a folder, sorted; failing to list it is a DataError naming the folder. */
export function listFolder(dir: string): string[] {
  const fs = hostFiles('data.listFolder');
  try {
    return fs.list(dir).map((e) => e.name);
  } catch (e) {
    throw new DataError(dir, `cannot read folder (${ioReason(e)})`);
  }
}

/** Read a small text file (a class-name list); DataError when it cannot be read. */
export function readTextFile(path: string, what = ''): string {
  return new TextDecoder().decode(readDataFile(path, what));
}
