// Checkpoint files: the safetensors format of src/io/safetensors.ts (one encoder and
// decoder for the whole library), plus what the trainer needs on top of it:
// - files are written atomically: first to a temporary name in the same folder, flushed
//   to disk, then renamed over the target, so a crash never leaves a half-written file;
// - an unreadable or malformed checkpoint is a DataError (the command line's exit status 2);
// - host arrays ↔ GPU tensors for whole state dicts.
import { DataError } from '../data/errors.js';
import { readDataFile } from '../data/node/files.js';
import { Tensor, tensor } from '../tensor/index.js';
import { hostFiles } from '../platform/files.js';
import { decodeSafetensors, encodeSafetensors, SafetensorsError, HostTensor } from '../io/safetensors.js';

export { encodeSafetensors, decodeSafetensors };
export type { HostTensor };

/** Write a file atomically: temporary file in the same folder, flushed to disk, renamed over `path`. */
export function writeFileAtomic(path: string, data: Uint8Array | string): void {
  hostFiles('train.writeFileAtomic').writeAtomic(path, data);
}

/** Decode a checkpoint's bytes (`file` names it in errors) into host tensors and metadata ({} when it has none); a DataError when malformed. */
export function decodeSafetensorsFile(bytes: Uint8Array, file: string): { tensors: Record<string, HostTensor>; metadata: Record<string, string> } {
  try {
    const { tensors, metadata } = decodeSafetensors(bytes, file);
    return { tensors, metadata: metadata ?? {} };
  } catch (e) {
    if (e instanceof SafetensorsError) throw new DataError(file, e.message.slice(`safetensors: ${file}: `.length));
    throw e;
  }
}

/** Read a checkpoint's tensors (on the host) and metadata ({} when it has none). */
export function readSafetensorsFile(path: string): { tensors: Record<string, HostTensor>; metadata: Record<string, string> } {
  hostFiles('train.readSafetensorsFile');
  return decodeSafetensorsFile(readDataFile(path, 'checkpoint'), path);
}

/** Read GPU tensors to host arrays. */
export async function toHost(dict: Record<string, Tensor>): Promise<Record<string, HostTensor>> {
  const out: Record<string, HostTensor> = {};
  for (const [k, t] of Object.entries(dict)) {
    const data = await t.read();
    // an f16 tensor reads back as f32 values (and is written as F32)
    out[k] = { dtype: t.dtype === 'i32' ? 'i32' : 'f32', fileDtype: t.dtype === 'i32' ? 'I64' : 'F32', shape: [...t.shape], data };
  }
  return out;
}

/** Host arrays to new GPU tensors. */
export function toDevice(dict: Record<string, HostTensor>): Record<string, Tensor> {
  const out: Record<string, Tensor> = {};
  for (const [k, t] of Object.entries(dict)) out[k] = tensor(t.data, t.shape, { dtype: t.dtype });
  return out;
}
