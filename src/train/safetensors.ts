// Checkpoint files: the safetensors format of src/io/safetensors.ts (one encoder and
// decoder for the whole library), plus what the trainer needs on top of it:
// - files are written atomically: first to a temporary name in the same folder, flushed
//   to disk, then renamed over the target, so a crash never leaves a half-written file;
// - an unreadable or malformed checkpoint is a DataError (the command line's exit status 2);
// - host arrays ↔ GPU tensors for whole state dicts.
import { closeSync, fsyncSync, openSync, renameSync, writeSync, unlinkSync } from 'node:fs';
import { DataError } from '../data/errors.js';
import { readDataFile } from '../data/node/files.js';
import { Tensor, tensor } from '../tensor/index.js';
import { decodeSafetensors, encodeSafetensors, SafetensorsError, HostTensor } from '../io/safetensors.js';

export { encodeSafetensors, decodeSafetensors };
export type { HostTensor };

/** Write a file atomically: temporary file in the same folder, fsync, rename. */
export function writeFileAtomic(path: string, data: Uint8Array | string): void {
  const tmp = `${path}.tmp-${process.pid}`;
  const fd = openSync(tmp, 'w');
  try {
    const b = typeof data === 'string' ? Buffer.from(data) : data;
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

/** Read a checkpoint's tensors (on the host) and metadata ({} when it has none). */
export function readSafetensorsFile(path: string): { tensors: Record<string, HostTensor>; metadata: Record<string, string> } {
  const buf = readDataFile(path, 'checkpoint');
  try {
    const { tensors, metadata } = decodeSafetensors(buf, path);
    return { tensors, metadata: metadata ?? {} };
  } catch (e) {
    if (e instanceof SafetensorsError) throw new DataError(path, e.message.slice(`safetensors: ${path}: `.length));
    throw e;
  }
}

/** Read GPU tensors to host arrays. */
export async function toHost(dict: Record<string, Tensor>): Promise<Record<string, HostTensor>> {
  const out: Record<string, HostTensor> = {};
  for (const [k, t] of Object.entries(dict)) {
    const data = await t.read();
    out[k] = { dtype: t.dtype, fileDtype: t.dtype === 'i32' ? 'I64' : 'F32', shape: [...t.shape], data };
  }
  return out;
}

/** Host arrays to new GPU tensors. */
export function toDevice(dict: Record<string, HostTensor>): Record<string, Tensor> {
  const out: Record<string, Tensor> = {};
  for (const [k, t] of Object.entries(dict)) out[k] = tensor(t.data, t.shape, { dtype: t.dtype });
  return out;
}
