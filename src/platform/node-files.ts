// Node's side of the seam's file system (platform.ts HostFiles), on node:fs. Failures are
// Node's own errors (with `code`); the library's callers turn them into DataErrors.
import {
  accessSync, appendFileSync, closeSync, constants, existsSync, fsyncSync, lstatSync, mkdirSync, mkdtempSync,
  openSync, readFileSync, readSync, readdirSync, renameSync, rmSync, statSync, unlinkSync, writeFileSync, writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { HostFiles } from './platform.js';

const bytesOf = (data: Uint8Array | string): Uint8Array => (typeof data === 'string' ? new TextEncoder().encode(data) : data);

/** Write a file atomically: temporary file in the same folder, fsync, rename. */
function writeAtomic(path: string, data: Uint8Array | string): void {
  const tmp = `${path}.tmp-${process.pid}`;
  const fd = openSync(tmp, 'w');
  try {
    const b = bytesOf(data);
    let off = 0;
    while (off < b.length) off += writeSync(fd, b, off, b.length - off);
    fsyncSync(fd);
  } catch (e) {
    closeSync(fd);
    try {
      unlinkSync(tmp);
    } catch {
      /* ignore */
    }
    throw e;
  }
  closeSync(fd);
  renameSync(tmp, path);
}

function readRange(path: string, offset: number, length: number): Uint8Array {
  const fd = openSync(path, 'r');
  try {
    const b = new Uint8Array(length);
    let got = 0;
    while (got < length) {
      const n = readSync(fd, b, got, length - got, offset + got);
      if (n === 0) break;
      got += n;
    }
    return got === length ? b : b.subarray(0, got);
  } finally {
    closeSync(fd);
  }
}

/** mkdir -p one level at a time (Node 20's recursive mkdirSync never returns under /proc). */
function mkdirs(dir: string): void {
  if (existsSync(dir)) {
    if (statSync(dir).isDirectory()) return;
    throw Object.assign(new Error(`EEXIST: file already exists, mkdir '${dir}'`), { code: 'EEXIST', path: dir });
  }
  const parent = dirname(dir);
  if (parent !== dir) mkdirs(parent);
  try {
    mkdirSync(dir);
  } catch (e) {
    // made meanwhile by someone else: fine
    if ((e as { code?: string }).code !== 'EEXIST' || !statSync(dir).isDirectory()) throw e;
  }
}

export const nodeFiles: HostFiles = {
  readBytes: (path) => readFileSync(path),
  readText: (path) => readFileSync(path, 'utf8'),
  readRange,
  write: (path, data) => writeFileSync(path, data),
  writeAtomic,
  append: (path, text) => appendFileSync(path, text),
  list: (dir) => readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)),
  stat: (path) => statSync(path),
  lstat: (path) => lstatSync(path),
  exists: (path) => existsSync(path),
  access: (path, mode) => accessSync(path, mode === 'write' ? constants.W_OK : constants.R_OK),
  mkdir: (path, opts) => (opts?.recursive ? mkdirs(path) : mkdirSync(path)),
  remove: (path, opts) => rmSync(path, { recursive: !!opts?.recursive, force: true }),
  tempDir: (prefix) => mkdtempSync(join(tmpdir(), prefix)),
};
