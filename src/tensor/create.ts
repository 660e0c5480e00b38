// Creating tensors: from host values (`tensor`), uninitialized (`empty`), or filled on the GPU
// (`full`, `zeros`, `ones`: the fill kernel, no upload).

import { gpu, fillBuffer } from '../gpu/index.js';
import { OpError } from '../errors.js';
import { Tensor, Shape, DType, Storage, numel, shapeStr, bytesOf } from './tensor.js';
import { toHalfBits } from '../util/half.js';

export interface TensorOptions {
  dtype?: DType;
  requiresGrad?: boolean;
}

function checkShape(op: string, shape: Shape): void {
  if (!Array.isArray(shape) && !ArrayBuffer.isView(shape)) throw new OpError(op, `shape must be an array of sizes, got ${typeof shape}`);
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) throw new OpError(op, `invalid shape ${shapeStr(shape)} (sizes must be integers >= 0)`);
  }
}

function checkDtype(op: string, dtype: unknown): asserts dtype is DType {
  if (dtype !== 'f32' && dtype !== 'i32' && dtype !== 'f16') throw new OpError(op, `unknown dtype '${String(dtype)}' (use 'f32', 'i32' or 'f16')`);
  // f16 data is read only by kernels compiled with `enable f16`
  if (dtype === 'f16' && !gpu().features.has('shader-f16')) {
    throw new OpError(op, `dtype 'f16' needs the adapter feature 'shader-f16', which this adapter (${gpu().info.vendor} ${gpu().info.description || gpu().info.architecture}) does not offer`);
  }
}

function withGrad(t: Tensor, op: string, opts: TensorOptions): Tensor {
  if (opts.requiresGrad) {
    if (t.dtype !== 'f32') throw new OpError(op, `requiresGrad needs dtype 'f32', got '${t.dtype}'`);
    t.requiresGrad = true;
  }
  return t;
}

/** An uninitialized tensor (ops write into it). */
export function empty(shape: Shape, dtype: DType = 'f32'): Tensor {
  checkShape('tensor', shape);
  checkDtype('tensor', dtype);
  return new Tensor(Storage.alloc(bytesOf(dtype, numel(shape))), shape, dtype);
}

export function tensor(values: ArrayLike<number> | Float32Array | Int32Array, shape?: Shape, opts: TensorOptions = {}): Tensor {
  const dtype = opts.dtype ?? (values instanceof Int32Array ? 'i32' : 'f32');
  checkDtype('tensor', dtype);
  const shp = shape ?? [values.length];
  checkShape('tensor', shp);
  const n = numel(shp);
  if (n !== values.length) throw new OpError('tensor', `${values.length} values do not fill shape ${shapeStr(shp)} (${n} elements)`);
  const t = empty(shp, dtype);
  if (n > 0) {
    let data: Float32Array | Int32Array | Uint16Array;
    if (dtype === 'f16') data = toHalfBits(values as ArrayLike<number>);
    else if (dtype === 'f32') data = values instanceof Float32Array ? values : Float32Array.from(values as ArrayLike<number>);
    else data = values instanceof Int32Array ? values : Int32Array.from(values as ArrayLike<number>);
    gpu().write(t.slice('tensor'), data, true); // t's buffer is fresh from the pool
  }
  return withGrad(t, 'tensor', opts);
}

/** A tensor of `shape` filled with `value` on the GPU. */
export function full(shape: Shape, value: number, opts: TensorOptions = {}): Tensor {
  const dtype = opts.dtype ?? 'f32';
  checkDtype('full', dtype);
  if (dtype === 'f16') return tensor(new Float32Array(numel(shape)).fill(value), shape, opts);
  if (dtype === 'i32') {
    // the fill kernel writes f32 bits: integers go up as host data
    if (!Number.isInteger(value)) throw new OpError('full', `an i32 tensor needs an integer value, got ${value}`);
    return tensor(new Int32Array(numel(shape)).fill(value), shape, opts);
  }
  const t = empty(shape, dtype);
  fillBuffer(t.slice('full'), t.size, value);
  return withGrad(t, 'full', opts);
}

export function zeros(shape: Shape, opts: TensorOptions = {}): Tensor {
  return full(shape, 0, opts);
}

export function ones(shape: Shape, opts: TensorOptions = {}): Tensor {
  return full(shape, 1, opts);
}
