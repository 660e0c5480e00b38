// Shared helpers for op launchers: argument checks that name the op and the
// shapes, shape arithmetic, and packing of shapes/strides into uniform vec4 arrays.

import { Tensor, Shape, shapeStr, empty } from '../tensor/index.js';
import { OpError } from '../errors.js';
import { gpu, grid } from '../gpu/index.js';
import type { LegacyDispatchDesc } from '../gpu/batch.js';

export { OpError, shapeStr, grid, gpu };

export function check(t: unknown, op: string, arg: string): Tensor {
  if (!(t instanceof Tensor)) throw new OpError(op, `argument '${arg}' must be a Tensor, got ${t === null ? 'null' : typeof t}`);
  if (t.disposed) throw new OpError(op, `argument '${arg}' (tensor #${t.id} ${shapeStr(t.shape)}) was used after dispose()`);
  return t;
}

export function checkF32(t: unknown, op: string, arg: string): Tensor {
  const x = check(t, op, arg);
  if (x.dtype !== 'f32') throw new OpError(op, `argument '${arg}' must have dtype f32, got ${x.dtype} ${shapeStr(x.shape)}`);
  return x;
}

export function checkI32(t: unknown, op: string, arg: string): Tensor {
  const x = check(t, op, arg);
  if (x.dtype !== 'i32') throw new OpError(op, `argument '${arg}' must have dtype i32, got ${x.dtype} ${shapeStr(x.shape)}`);
  return x;
}

/**
 * Check both operands of a two-tensor op are live f32 tensors; a dtype mismatch names
 * the op and both operands' dtypes and shapes.
 */
export function checkF32Pair(a: unknown, b: unknown, op: string, an = 'a', bn = 'b'): [Tensor, Tensor] {
  const x = check(a, op, an);
  const y = check(b, op, bn);
  if (x.dtype !== 'f32' || y.dtype !== 'f32') {
    throw new OpError(op, `expects f32 operands, got ${an} ${x.dtype} ${shapeStr(x.shape)} and ${bn} ${y.dtype} ${shapeStr(y.shape)}`);
  }
  return [x, y];
}

export function sameShape(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

export function stridesOf(shape: Shape): number[] {
  const s = new Array(shape.length).fill(1);
  for (let i = shape.length - 2; i >= 0; i--) s[i] = s[i + 1] * shape[i + 1];
  return s;
}

/** NumPy/PyTorch broadcasting of two shapes, or an error naming the op and both shapes. */
export function broadcastShapes(op: string, a: Shape, b: Shape): number[] {
  const r = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < r; i++) {
    const da = a[a.length - r + i] ?? 1;
    const db = b[b.length - r + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw new OpError(op, `shapes ${shapeStr(a)} and ${shapeStr(b)} cannot be broadcast together (dim ${i}: ${da} vs ${db})`);
    }
    out.push(da === 1 ? db : da);
  }
  return out;
}

/** Strides of `shape` when broadcast to `out` (0 on broadcast dims), right-aligned. */
export function broadcastStrides(shape: Shape, out: Shape): number[] {
  const st = stridesOf(shape);
  const r = out.length;
  const res: number[] = [];
  for (let i = 0; i < r; i++) {
    const j = shape.length - r + i;
    res.push(j < 0 || shape[j] === 1 ? 0 : st[j]);
  }
  return res;
}

/** Pack up to 8 numbers into 8 u32 slots (two vec4<u32>). */
export function vec8(v: number[]): number[] {
  if (v.length > 8) throw new Error(`rank ${v.length} exceeds 8`);
  const r = v.slice();
  while (r.length < 8) r.push(0);
  return r;
}

/** TRANSITION: a 1-D legacy dispatch (removed once every family is converted). */
export function launch1d(n: number, d: Omit<LegacyDispatchDesc, 'workgroups'>, wg = 256): void {
  gpu().dispatch({ ...d, workgroups: grid(n, wg) });
}

export function out(shape: Shape, dtype: 'f32' | 'i32' = 'f32'): Tensor {
  return empty(shape, dtype);
}

export function normAxis(op: string, axis: number, rank: number, shape?: Shape): number {
  const a = axis < 0 ? axis + rank : axis;
  if (!Number.isInteger(a) || a < 0 || a >= rank) {
    throw new OpError(op, `axis ${axis} is out of range for a tensor of rank ${rank}${shape ? ` ${shapeStr(shape)}` : ''}`);
  }
  return a;
}
