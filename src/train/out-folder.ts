// Output folders and files of the commands (`train --out`, `cam --out`, `report --run`): found
// usable before any work starts, or an ArgError naming the flag and the path (exit status 2):
//   - a kernel file system (/proc, /sys, cgroup, debugfs, …) is refused outright: it holds no
//     files, and creating folders there hangs (mkdirSync(…, { recursive: true }) under /proc
//     in Node 20) or does something else entirely (a folder in cgroupfs is a control group);
//   - the path, or a folder above it, that is a file (or a broken symbolic link);
//   - the folder is created one level at a time (each failure names the level);
//   - a probe file is written and removed, so an unwritable folder (permissions, a read-only
//     file system, an immutable folder) is found now, not after an epoch of training;
// and output files written atomically with a file-system failure reported the same way.
// Through the platform's file system (hostFiles): these commands need one.
import { ArgError } from '../errors.js';
import { hostFiles, dirname, resolve, type FileStat } from '../platform/files.js';

const reason = (e: unknown) => {
  const err = e as { code?: string; message?: string };
  return err?.code ? `${err.code}: ${String(err.message).replace(/^[A-Z]+: /, '').replace(/, \w+ '.*'$/, '')}` : String(e);
};

/** stat(p), or null when nothing is there (also when a part of the path is a file). */
function statOrNull(p: string, where: string): FileStat | null {
  try {
    return hostFiles('train.checkRunFolder').stat(p);
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return null;
    throw new ArgError(`${where} ${p}: cannot be looked at (${reason(e)})`);
  }
}

/**
 * Check `dir` as a folder for output without changing anything: not on a kernel file system,
 * a folder or nothing yet, and the deepest part of it that exists a folder. Returns whether
 * the folder exists. `where` names the command and flag ('focusnet train: --out').
 */
export function inspectFolder(dir: string, where: string): boolean {
  const abs = resolve(dir);
  let base = abs;
  let st = statOrNull(base, where);
  while (!st && dirname(base) !== base) {
    base = dirname(base);
    st = statOrNull(base, where);
  }
  const files = hostFiles('train.checkRunFolder');
  let real = base;
  try {
    real = files.realpath(base);
  } catch {
    /* the checks below report it */
  }
  const fs = files.kernelFileSystem(base);
  if (fs) throw new ArgError(`${where} ${dir}: ${real} is on ${fs}, a kernel file system that holds no files; choose another folder`);
  if (!st) throw new ArgError(`${where} ${dir}: no part of the path exists`);
  if (!st.isDirectory()) {
    throw new ArgError(base === abs ? `${where} ${dir}: is a file, not a folder` : `${where} ${dir}: ${base} is a file, not a folder, so nothing can be created under it`);
  }
  return base === abs;
}

/** Create `dir` one level at a time (an ArgError naming the level that failed). */
export function createFolder(dir: string, where: string): void {
  const abs = resolve(dir);
  const missing: string[] = [];
  for (let p = abs; !statOrNull(p, where) && dirname(p) !== p; p = dirname(p)) missing.unshift(p);
  for (const p of missing) {
    try {
      hostFiles('train.checkRunFolder').mkdir(p);
    } catch (e) {
      const code = (e as { code?: string }).code;
      let what = reason(e);
      if (code === 'EEXIST') {
        let link = false;
        try {
          link = hostFiles('train.checkRunFolder').lstat(p).isSymbolicLink();
        } catch {
          /* gone again */
        }
        if (!link && statOrNull(p, where)?.isDirectory()) continue; // made by someone else meanwhile
        if (link) what = 'a symbolic link to nothing';
      }
      throw new ArgError(`${where} ${dir}: cannot create the folder ${p} (${what})`);
    }
  }
}

/** Write and remove a probe file in `dir`: an ArgError when nothing can be written there. */
export function probeWritable(dir: string, where: string): void {
  const files = hostFiles('train.checkRunFolder');
  const probe = resolve(dir, `.focusnet-write-probe-${files.pid}`);
  try {
    files.write(probe, 'ok');
    files.remove(probe);
  } catch (e) {
    throw new ArgError(`${where} ${dir}: cannot write into the folder (${reason(e)})`);
  }
}

/** inspectFolder + createFolder + probeWritable. Returns whether the folder existed before. */
export function ensureWritableFolder(dir: string, where: string): boolean {
  const existed = inspectFolder(dir, where);
  if (!existed) createFolder(dir, where);
  probeWritable(dir, where);
  return existed;
}

/** Write an output file atomically; a file-system failure is an ArgError naming `where` and the path. */
export function writeOutputFile(path: string, data: Uint8Array | string, where: string): void {
  try {
    hostFiles('writeOutputFile').writeAtomic(path, data);
  } catch (e) {
    throw new ArgError(`${where}: cannot write ${path} (${reason(e)})`);
  }
}
