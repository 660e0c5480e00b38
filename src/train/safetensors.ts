// Safetensors files from host arrays (checkpoints), written atomically:
// 8-byte little-endian header length, a JSON header (name → dtype, shape,
// data_offsets; optional "__metadata__" of strings), then the raw little-endian data.
// The file is first written to a temporary name in the same folder, flushed to
// disk, then renamed over the target, so a crash never leaves a half-written file.
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, writeSync, unlinkSync } from 'node:fs';
import { DataError } from '../data/errors.js';
import { Tensor, tensor } from '../tensor/tensor.js';

export interface HostTensor {
  dtype: 'F32' | 'I32';
  shape: number[];
  data: Float32Array | Int32Array;
}

export function encodeSafetensors(tensors: Record<string, HostTensor>, metadata: Record<string, string> = {}): Buffer {
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length) header.__metadata__ = metadata;
  let off = 0;
  const names = Object.keys(tensors);
  for (const name of names) {
    const t = tensors[name];
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [off, off + t.data.byteLength] };
    off += t.data.byteLength;
  }
  let json = JSON.stringify(header);
  while ((8 + Buffer.byteLength(json)) % 8 !== 0) json += ' ';
  const hbytes = Buffer.from(json, 'utf8');
  const out = Buffer.alloc(8 + hbytes.length + off);
  out.writeBigUInt64LE(BigInt(hbytes.length), 0);
  hbytes.copy(out, 8);
  let p = 8 + hbytes.length;
  for (const name of names) {
    const d = tensors[name].data;
    Buffer.from(d.buffer, d.byteOffset, d.byteLength).copy(out, p);
    p += d.byteLength;
  }
  return out;
}

export function decodeSafetensors(buf: Buffer, path: string): { tensors: Record<string, HostTensor>; metadata: Record<string, string> } {
  if (buf.length < 8) throw new DataError(path, `truncated safetensors file (${buf.length} bytes)`);
  const hlen = Number(buf.readBigUInt64LE(0));
  if (hlen <= 0 || 8 + hlen > buf.length) throw new DataError(path, `corrupt or truncated safetensors header (header length ${hlen}, file ${buf.length} bytes)`);
  let header: Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] } | Record<string, string>>;
  try {
    header = JSON.parse(buf.subarray(8, 8 + hlen).toString('utf8'));
  } catch (e) {
    throw new DataError(path, `corrupt safetensors header (${(e as Error).message})`);
  }
  const base = 8 + hlen;
  const tensors: Record<string, HostTensor> = {};
  let metadata: Record<string, string> = {};
  for (const [name, v] of Object.entries(header)) {
    if (name === '__metadata__') {
      metadata = v as Record<string, string>;
      continue;
    }
    const e = v as { dtype: string; shape: number[]; data_offsets: [number, number] };
    const [s, t] = e.data_offsets;
    if (!(t >= s && base + t <= buf.length)) throw new DataError(path, `tensor '${name}' lies outside the file (truncated?)`);
    const n = e.shape.reduce((a, b) => a * b, 1);
    const bytes = buf.subarray(base + s, base + t);
    const copy = new Uint8Array(bytes.length);
    copy.set(bytes);
    if (e.dtype === 'F32' && bytes.length === n * 4) tensors[name] = { dtype: 'F32', shape: e.shape, data: new Float32Array(copy.buffer) };
    else if (e.dtype === 'I32' && bytes.length === n * 4) tensors[name] = { dtype: 'I32', shape: e.shape, data: new Int32Array(copy.buffer) };
    else if (e.dtype === 'I64' && bytes.length === n * 8) {
      const big = new BigInt64Array(copy.buffer);
      tensors[name] = { dtype: 'I32', shape: e.shape, data: Int32Array.from(big, (x) => Number(x)) };
    } else throw new DataError(path, `tensor '${name}': unsupported dtype ${e.dtype} or wrong byte count (${bytes.length} for shape [${e.shape}])`);
  }
  return { tensors, metadata };
}

/** Write a file atomically: temporary file in the same folder, fsync, rename. */
export function writeFileAtomic(path: string, data: Buffer | string): void {
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

export function readSafetensorsFile(path: string): { tensors: Record<string, HostTensor>; metadata: Record<string, string> } {
  let buf: Buffer;
  try {
    buf = readFileSync(path);
  } catch (e) {
    throw new DataError(path, `cannot read checkpoint (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  return decodeSafetensors(buf, path);
}

/** Read GPU tensors to host arrays. */
export async function toHost(dict: Record<string, Tensor>): Promise<Record<string, HostTensor>> {
  const out: Record<string, HostTensor> = {};
  for (const [k, t] of Object.entries(dict)) {
    const data = await t.read();
    out[k] = { dtype: t.dtype === 'i32' ? 'I32' : 'F32', shape: [...t.shape], data };
  }
  return out;
}

/** Host arrays to new GPU tensors. */
export function toDevice(dict: Record<string, HostTensor>): Record<string, Tensor> {
  const out: Record<string, Tensor> = {};
  for (const [k, t] of Object.entries(dict)) out[k] = tensor(t.data, t.shape, { dtype: t.dtype === 'I32' ? 'i32' : 'f32' });
  return out;
}
