// The safetensors file format (https://github.com/huggingface/safetensors):
//   8 bytes   little-endian u64 N, the header length
//   N bytes   JSON header: { "__metadata__"?: {string: string},
//             name: { "dtype": "F32", "shape": [..], "data_offsets": [begin, end] }, ... }
//             padded with spaces to a multiple of 8 bytes (as the Python library writes it)
//   rest      the data, little-endian, row-major; offsets are relative to the data start,
//             and the tensors cover it exactly, without holes or overlaps.
// Writing: f32 tensors as F32; i32 tensors as I64 (PyTorch's integer buffers such as
// num_batches_tracked are int64). Reading: F32, F16, BF16, F64 become f32 tensors;
// I64, I32, I16, I8, U8, U16, U32, BOOL become i32 tensors (I64/U32 values must fit).
// Tensors are laid out as the Python library does: by dtype size (largest first), then name.
// Every malformed file gives a SafetensorsError naming the file and what is wrong.

import { Tensor, tensor, numel } from '../tensor/index.js';
import { FocusnetError } from '../errors.js';
import { hostFiles } from '../platform/files.js';
import { halfToFloat } from '../util/half.js';

export class SafetensorsError extends FocusnetError {
  constructor(readonly file: string, detail: string) {
    super(`safetensors: ${file}: ${detail}`);
    this.name = 'SafetensorsError';
  }
}

const DTYPE_SIZE: Record<string, number> = {
  BOOL: 1, U8: 1, I8: 1, F8_E5M2: 1, F8_E4M3: 1, I16: 2, U16: 2, F16: 2, BF16: 2,
  I32: 4, U32: 4, F32: 4, F64: 8, I64: 8, U64: 8,
};

/** One decoded entry, on the host. */
export interface HostTensor {
  dtype: 'f32' | 'i32';
  /** the dtype stored in the file */
  fileDtype: string;
  shape: number[];
  data: Float32Array | Int32Array;
}

export interface DecodedSafetensors {
  tensors: Record<string, HostTensor>;
  metadata: Record<string, string> | null;
}

const MAX_HEADER = 100 * 1024 * 1024;

type ElementReader = (dv: DataView, i: number) => number;
/** Dtypes converted one element at a time, by the f32 or i32 tensor they become. */
const TO_F32: Record<string, ElementReader> = {
  F16: (dv, i) => halfToFloat(dv.getUint16(2 * i, true)),
  F64: (dv, i) => dv.getFloat64(8 * i, true),
};
const TO_I32: Record<string, ElementReader> = {
  I16: (dv, i) => dv.getInt16(2 * i, true),
  U16: (dv, i) => dv.getUint16(2 * i, true),
  I8: (dv, i) => dv.getInt8(i),
  U8: (dv, i) => dv.getUint8(i),
  BOOL: (dv, i) => dv.getUint8(i),
};
/** What focusnet reads: the bit copies, the range-checked integers and the tables above. */
const READ_AS_F32 = new Set(['F32', 'BF16', ...Object.keys(TO_F32)]);
const READ_AS_I32 = new Set(['I32', 'I64', 'U32', ...Object.keys(TO_I32)]);

function convert(file: string, name: string, dtype: string, bytes: Uint8Array, n: number): Float32Array | Int32Array {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (dtype === 'F32' || dtype === 'I32') {
    // the bits as they are (NaN payloads, -0, denormals)
    const out = dtype === 'F32' ? new Float32Array(n) : new Int32Array(n);
    new Uint8Array(out.buffer).set(bytes);
    return out;
  }
  if (dtype === 'BF16') {
    // the upper half of an f32, bit for bit
    const out = new Float32Array(n);
    const u = new Uint32Array(out.buffer);
    for (let i = 0; i < n; i++) u[i] = dv.getUint16(2 * i, true) << 16;
    return out;
  }
  if (dtype === 'I64' || dtype === 'U32') {
    const out = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const v = dtype === 'I64' ? dv.getBigInt64(8 * i, true) : BigInt(dv.getUint32(4 * i, true));
      if (v > 2147483647n || v < -2147483648n) {
        throw new SafetensorsError(file, `tensor '${name}' (${dtype}) holds ${v} at index ${i}, outside the i32 range`);
      }
      out[i] = Number(v);
    }
    return out;
  }
  const toF32 = TO_F32[dtype] as ElementReader | undefined;
  const read = toF32 ?? TO_I32[dtype];
  const out = toF32 ? new Float32Array(n) : new Int32Array(n);
  for (let i = 0; i < n; i++) out[i] = read(dv, i);
  return out;
}

/**
 * The header length N from the file's first 8 bytes (`first8`), checked against the file's
 * `size` in bytes (under 8: the file is too short, and `first8` is not read).
 */
function headerLength(file: string, first8: Uint8Array, size: number): number {
  if (size < 8) throw new SafetensorsError(file, `file is ${size} bytes, too short for the 8-byte header length`);
  const n64 = new DataView(first8.buffer, first8.byteOffset, 8).getBigUint64(0, true);
  if (n64 > BigInt(size - 8)) {
    throw new SafetensorsError(file, `header length ${n64} goes beyond the end of the file (${size} bytes; truncated or not a safetensors file)`);
  }
  const n = Number(n64);
  if (n > MAX_HEADER) throw new SafetensorsError(file, `header length ${n} exceeds the ${MAX_HEADER}-byte limit`);
  if (n < 2) throw new SafetensorsError(file, `header length ${n} is too small for a JSON object`);
  return n;
}

/** The JSON header (its N bytes) as an object, and its checked `__metadata__` string map. */
function parseHeader(file: string, bytes: Uint8Array): { header: Record<string, unknown>; metadata: Record<string, string> | null } {
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (e) {
    throw new SafetensorsError(file, `header is not valid UTF-8 JSON (${(e as Error).message})`);
  }
  if (!header || typeof header !== 'object' || Array.isArray(header)) throw new SafetensorsError(file, 'header is not a JSON object');
  const raw = (header as Record<string, unknown>).__metadata__;
  if (raw === undefined) return { header: header as Record<string, unknown>, metadata: null };
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new SafetensorsError(file, '__metadata__ must be an object of strings');
  for (const [k, v] of Object.entries(raw)) {
    if (typeof v !== 'string') throw new SafetensorsError(file, `__metadata__ entry '${k}' is not a string`);
  }
  return { header: header as Record<string, unknown>, metadata: raw as Record<string, string> };
}

/** Parse and validate a safetensors file's bytes. `file` names it in errors. */
export function decodeSafetensors(buf: Uint8Array, file = '<buffer>'): DecodedSafetensors {
  const n = headerLength(file, buf, buf.byteLength);
  const { header, metadata } = parseHeader(file, buf.subarray(8, 8 + n));
  const dataStart = 8 + n;
  const dataLen = buf.byteLength - dataStart;
  const spans: { name: string; begin: number; end: number }[] = [];
  const entries: { name: string; dtype: string; shape: number[]; begin: number; end: number }[] = [];
  for (const [name, raw] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new SafetensorsError(file, `entry '${name}' is not an object`);
    const { dtype, shape, data_offsets: offs } = raw as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (typeof dtype !== 'string' || !(dtype in DTYPE_SIZE)) throw new SafetensorsError(file, `tensor '${name}' has unknown dtype ${JSON.stringify(dtype)}`);
    if (!READ_AS_F32.has(dtype) && !READ_AS_I32.has(dtype)) throw new SafetensorsError(file, `tensor '${name}' has dtype ${dtype}, which focusnet cannot read`);
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      throw new SafetensorsError(file, `tensor '${name}' has an invalid shape ${JSON.stringify(shape)}`);
    }
    if (!Array.isArray(offs) || offs.length !== 2 || !offs.every((d) => Number.isSafeInteger(d) && d >= 0) || offs[0] > offs[1]) {
      throw new SafetensorsError(file, `tensor '${name}' has invalid data_offsets ${JSON.stringify(offs)}`);
    }
    const [begin, end] = offs as [number, number];
    if (end > dataLen) throw new SafetensorsError(file, `tensor '${name}' data_offsets [${begin}, ${end}] go beyond the ${dataLen} data bytes (truncated file?)`);
    const want = numel(shape) * DTYPE_SIZE[dtype];
    if (end - begin !== want) {
      throw new SafetensorsError(file, `tensor '${name}' ${dtype} ${JSON.stringify(shape)} needs ${want} bytes but data_offsets [${begin}, ${end}] span ${end - begin}`);
    }
    spans.push({ name, begin, end });
    entries.push({ name, dtype, shape: shape as number[], begin, end });
  }
  spans.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let pos = 0;
  for (const s of spans) {
    if (s.begin < pos) throw new SafetensorsError(file, `tensor '${s.name}' data [${s.begin}, ${s.end}] overlaps the previous tensor (which ends at ${pos})`);
    if (s.begin > pos) throw new SafetensorsError(file, `data bytes [${pos}, ${s.begin}) belong to no tensor (hole before '${s.name}')`);
    pos = s.end;
  }
  if (pos !== dataLen) throw new SafetensorsError(file, `tensors cover ${pos} of the ${dataLen} data bytes (trailing bytes or a corrupt header)`);
  const tensors: Record<string, HostTensor> = {};
  for (const e of entries) {
    const bytes = buf.subarray(dataStart + e.begin, dataStart + e.end);
    const data = convert(file, e.name, e.dtype, bytes, numel(e.shape));
    tensors[e.name] = { dtype: READ_AS_F32.has(e.dtype) ? 'f32' : 'i32', fileDtype: e.dtype, shape: e.shape, data };
  }
  return { tensors, metadata };
}

export interface EncodeEntry {
  shape: readonly number[];
  data: Float32Array | Int32Array;
}

/** Serialise host tensors (f32 as F32, i32 as I64) with optional string metadata. */
export function encodeSafetensors(dict: Record<string, EncodeEntry>, metadata?: Record<string, string>): Uint8Array {
  const items = Object.entries(dict).map(([name, e]) => {
    const isInt = e.data instanceof Int32Array;
    if (numel(e.shape) !== e.data.length) throw new FocusnetError(`safetensors: tensor '${name}' has ${e.data.length} values for shape [${e.shape.join(', ')}]`);
    return { name, e, dtype: isInt ? 'I64' : 'F32', size: isInt ? 8 : 4 };
  });
  // the Python library's order: larger dtypes first, then by name
  items.sort((a, b) => b.size - a.size || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const header: Record<string, unknown> = {};
  if (metadata && Object.keys(metadata).length) {
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== 'string') throw new FocusnetError(`safetensors: metadata '${k}' must be a string`);
    }
    header.__metadata__ = metadata;
  }
  let off = 0;
  for (const it of items) {
    const bytes = it.e.data.length * it.size;
    header[it.name] = { dtype: it.dtype, shape: [...it.e.shape], data_offsets: [off, off + bytes] };
    off += bytes;
  }
  let json = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil(json.length / 8) * 8;
  if (padded !== json.length) {
    const p = new Uint8Array(padded).fill(0x20);
    p.set(json);
    json = p;
  }
  const out = new Uint8Array(8 + padded + off);
  const dv = new DataView(out.buffer);
  dv.setBigUint64(0, BigInt(padded), true);
  out.set(json, 8);
  let pos = 8 + padded;
  for (const it of items) {
    if (it.dtype === 'F32') {
      out.set(new Uint8Array(it.e.data.buffer, it.e.data.byteOffset, it.e.data.byteLength), pos);
      pos += it.e.data.byteLength;
    } else {
      for (let i = 0; i < it.e.data.length; i++, pos += 8) dv.setBigInt64(pos, BigInt(it.e.data[i]), true);
    }
  }
  return out;
}

/**
 * Write `dict` (read back from the GPU) to `path`: f32 tensors as F32, i32 as I64.
 * `metadata` is stored as the `__metadata__` string map.
 */
export async function saveSafetensors(path: string, dict: Record<string, Tensor>, metadata?: Record<string, string>): Promise<void> {
  const host: Record<string, EncodeEntry> = {};
  for (const [name, t] of Object.entries(dict)) {
    if (!(t instanceof Tensor) || t.disposed) throw new FocusnetError(`safetensors: ${path}: entry '${name}' is not a live Tensor`);
    host[name] = { shape: t.shape, data: t.size === 0 ? (t.dtype === 'i32' ? new Int32Array(0) : new Float32Array(0)) : await t.read() };
  }
  hostFiles('io.saveSafetensors').writeAtomic(path, encodeSafetensors(host, metadata));
}

function readFile(path: string, caller: string): Uint8Array {
  const fs = hostFiles(caller);
  try {
    return fs.readBytes(path);
  } catch (e) {
    throw new SafetensorsError(path, `cannot read the file (${(e as Error).message})`);
  }
}

/** Read a safetensors file into GPU tensors (f32, or i32 for integer dtypes). The caller owns them. */
export function loadSafetensors(path: string): Record<string, Tensor> {
  const { tensors } = decodeSafetensors(readFile(path, 'io.loadSafetensors'), path);
  const out: Record<string, Tensor> = {};
  for (const [name, h] of Object.entries(tensors)) {
    const t = tensor(h.data, h.shape, { dtype: h.dtype });
    t.name = name;
    out[name] = t;
  }
  return out;
}

/**
 * The `__metadata__` map of a safetensors file (null when it has none). Reads the 8-byte length
 * and the JSON header only, not the tensor data (a checkpoint's metadata without its weights);
 * the tensors are checked when the file is loaded.
 */
export function readSafetensorsMetadata(path: string): Record<string, string> | null {
  const fs = hostFiles('io.readSafetensorsMetadata');
  const readAt = (bytes: number, pos: number): Uint8Array => {
    let b: Uint8Array;
    try {
      b = fs.readRange(path, pos, bytes);
    } catch (e) {
      throw new SafetensorsError(path, `cannot read the file (${(e as Error).message})`);
    }
    if (b.length !== bytes) throw new SafetensorsError(path, `${bytes} bytes at offset ${pos} could not be read`);
    return b;
  };
  let size: number;
  try {
    size = fs.stat(path).size;
  } catch (e) {
    throw new SafetensorsError(path, `cannot read the file (${(e as Error).message})`);
  }
  const n = headerLength(path, readAt(Math.min(8, size), 0), size);
  return parseHeader(path, readAt(n, 8)).metadata;
}
