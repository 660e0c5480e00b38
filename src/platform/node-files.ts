// Node's side of the seam's file system (platform.ts HostFiles), on node:fs. Failures are
// Node's own errors (with `code`); the library's callers turn them into DataErrors.
import {
  accessSync, appendFileSync, closeSync, constants, existsSync, fsyncSync, lstatSync, mkdirSync, mkdtempSync,
  openSync, readFileSync, readSync, readdirSync, realpathSync, renameSync, rmSync, statSync, statfsSync, unlinkSync,
  writeFileSync, writeSync,
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

/** statfs magic numbers of kernel file systems that hold no files (linux/magic.h). */
const KERNEL_FS: Record<number, string> = {
  0x9fa0: 'procfs', 0x62656572: 'sysfs', 0x27e0eb: 'cgroupfs', 0x63677270: 'cgroup2fs', 0x64626720: 'debugfs',
  0x74726163: 'tracefs', 0x73636673: 'securityfs', 0xcafe4a11: 'bpffs',
};

function kernelFileSystem(path: string): string | undefined {
  let real = path;
  try {
    real = realpathSync(path);
  } catch {
    /* judged by the path itself */
  }
  const top = /^\/(proc|sys)(\/|$)/.exec(real);
  if (top) return top[1] === 'proc' ? 'procfs' : 'sysfs';
  try {
    return KERNEL_FS[statfsSync(path).type];
  } catch {
    return undefined; // no statfs here: a write probe decides
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'; // someone else's live process
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
  realpath: (path) => realpathSync(path),
  kernelFileSystem,
  pid: process.pid,
  processAlive,
};
